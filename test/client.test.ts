import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import { Client, type JobResult } from "../actors/client.js";
import { JobLedger } from "../actors/jobLedger.js";
import { Server } from "../actors/servers/server.js";
import { isPalmError, type PalmError, RemoteError } from "../src/errors.js";
import { createMessage } from "../src/message.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";

// How a Client's calls end (oversized requests, its server stopping, going silent, the client stopping)
// and how a job survives a kill -9 of its Master. Servers and workers run in their own processes where
// processes matter; everything a test starts is stopped after it.

const quiet = { logLevel: "silent" } as const;
const text = (result: JobResult) =>
  result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString();

async function masterAddresses() {
  const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
  return {
    name: "server",
    pullAddress: pullAddress!,
    pubAddress: pubAddress!,
    workerPullAddress: workerPullAddress!,
    workerPushAddress: workerPushAddress!,
    dbAddress: dbAddress!,
  };
}

type Addresses = Awaited<ReturnType<typeof masterAddresses>>;

const processes: FixtureProcess[] = [];
const stoppers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
  await Promise.all(processes.splice(0).map((p) => p.kill()));
});
after(async () => {
  await Promise.all(processes.map((p) => p.kill()));
});

async function startMaster(addresses: Addresses): Promise<FixtureProcess> {
  const master = startFixture("masterProcess.ts", addresses, { name: "master" });
  processes.push(master);
  await master.waitFor((l) => l.event === "ready");
  return master;
}

/** Starts workers in their own processes and waits until the master counts them. */
async function startWorkers(master: FixtureProcess, addresses: Addresses, names: string[], spinUs: number) {
  const workers = names.map((name) => {
    const worker = startFixture(
      "workerProcess.ts",
      { name, dbAddress: addresses.dbAddress, spinUs },
      { name },
    );
    processes.push(worker);
    return worker;
  });
  await Promise.all(
    names.map((name) =>
      master.waitFor((l) => l.event === "worker.joined" && (l.worker as { name: string }).name === name),
    ),
  );
  return workers;
}

async function startClient(
  addresses: Addresses,
  extra: Partial<ConstructorParameters<typeof Client>[0]> = {},
) {
  const client = new Client({ serverName: "server", dbAddress: addresses.dbAddress, ...quiet, ...extra });
  stoppers.push(() => client.stop());
  await client.start();
  return client;
}

function payloads(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`m-${i}`));
}

/** Runs a job to its end or its error: every result's text, counted, and the error it threw. */
async function runJob(
  job: AsyncGenerator<JobResult>,
  onResult: (received: number) => void = () => undefined,
): Promise<{
  counts: Map<string, number>;
  received: number;
  errors: number;
  firstError: RemoteError | undefined;
  error: unknown;
  endedAt: number;
}> {
  const counts = new Map<string, number>();
  let received = 0;
  let errors = 0;
  let firstError: RemoteError | undefined;
  let error: unknown;
  try {
    for await (const result of job) {
      received++;
      if (result instanceof RemoteError) {
        errors++;
        if (errors === 1) firstError = result;
      } else counts.set(text(result), (counts.get(text(result)) ?? 0) + 1);
      onResult(received);
    }
  } catch (caught) {
    error = caught;
  }
  return { counts, received, errors, firstError, error, endedAt: Date.now() };
}

/** A Server in this process (stopped after the test) and a started client of it. */
async function serverAndClient(
  extra: Partial<ConstructorParameters<typeof Client>[0]> = {},
): Promise<{ server: Server; client: Client }> {
  const [dbAddress, pullAddress, pubAddress] = await freeEndpoints(3);
  const server = new Server({
    name: "server",
    dbAddress: dbAddress!,
    pullAddress: pullAddress!,
    pubAddress: pubAddress!,
    ...quiet,
  });
  stoppers.push(() => server.stop());
  await server.start();
  return { server, client: await startClient({ dbAddress: dbAddress! } as Addresses, extra) };
}

describe("Client: requests too large to send", () => {
  it("refuses a 70 MB request at once and sends nothing: eval rejects, a job reports it in place and goes on", async () => {
    const { server, client } = await serverAndClient({ timeoutMs: 5000 });
    const huge = Buffer.alloc(70 * 1024 * 1024, 1);

    const started = Date.now();
    await assert.rejects(client.eval("server.echo", huge), (error: unknown) => {
      assert.ok(isPalmError(error, "PALM_ERR_CODEC_OVERSIZED"), String(error));
      assert.match((error as Error).message, /over maxMessageSize \(67108864\): not sent/);
      return true;
    });
    // Refused, not timed out: well before the client's 5 s timeout (encoding 70 MB takes a while on a loaded machine).
    assert.ok(Date.now() - started < 4000, `refused after ${Date.now() - started} ms`);

    const results: JobResult[] = [];
    for await (const result of client.job("server.echo", [Buffer.from("a"), huge, Buffer.from("b")])) {
      results.push(result);
    }
    assert.equal(results.length, 3);
    const refused = results.filter((r) => r instanceof RemoteError);
    assert.equal(refused.length, 1);
    assert.equal((refused[0] as RemoteError).code, "PALM_ERR_CODEC_OVERSIZED");
    assert.deepEqual(
      results
        .filter((r) => !(r instanceof Error))
        .map(text)
        .sort(),
      ["a", "b"],
    );
    const pull = server.parts().find((p) => p.partType === "PullService")!;
    assert.equal(pull.messagesIn, 2, "only the two small messages reached the server");
    assert.equal(pull.badFrames, 0);
  });
});

describe("Client: a function name without its server", () => {
  it("fails at once with a hint to write server.echo", async () => {
    const { client } = await serverAndClient();
    const hint = (error: unknown) =>
      isPalmError(error, "PALM_ERR_OPTION_INVALID") && /as in "server\.echo"/.test(error.message);
    await assert.rejects(client.eval("echo", Buffer.from("x")), hint);
    await assert.rejects(async () => {
      for await (const _ of client.job(["server.echo", "echo"], [Buffer.from("x")])) {
        // Never reached.
      }
    }, hint);
    assert.equal(text(await client.eval("server.echo", Buffer.from("x"))), "x");
  });
});

describe("Client: a payload source that throws", () => {
  it("ends the job with what the source threw, even undefined, null or a string", async () => {
    const { client } = await serverAndClient();
    for (const thrown of [undefined, null, "a string", 0, new Error("broken")]) {
      async function* source() {
        for (let i = 0; i < 5; i++) yield Buffer.from(String(i));
        throw thrown;
      }
      function* syncSource() {
        yield Buffer.from("a");
        throw thrown;
      }
      for (const payloads of [source(), syncSource()]) {
        let caught: { value: unknown } | undefined;
        try {
          for await (const _ of client.job("server.echo", payloads)) {
            // Results before the throw may or may not come: the job must end with the throw.
          }
        } catch (error) {
          caught = { value: error };
        }
        assert.deepEqual(caught, { value: thrown }, `a source throwing ${String(thrown)} ends the job`);
      }
    }
    assert.equal(text(await client.eval("server.echo", Buffer.from("x"))), "x");
  });
});

describe("Client: prompt endings", () => {
  it("ends a job with PALM_ERR_SERVER_STOPPED within 1 s when its Master stops mid-job", async (t) => {
    const addresses = await masterAddresses();
    const master = await startMaster(addresses);
    await startWorkers(master, addresses, ["w1", "w2"], 2000);
    const client = await startClient(addresses, { timeoutMs: 30_000 });
    const total = 6000;
    let stoppedAt = 0;
    let pendingEval: Promise<{ error: unknown; at: number }> | undefined;
    const outcome = await runJob(client.job("server.echo", payloads(total)), (received) => {
      if (received !== total * 0.3) return;
      stoppedAt = Date.now();
      master.command({ cmd: "stop" });
      pendingEval = client.eval("server.echo", Buffer.from("eval")).then(
        () => ({ error: undefined, at: Date.now() }),
        (error: unknown) => ({ error, at: Date.now() }),
      );
    });
    const endMs = outcome.endedAt - stoppedAt;
    t.diagnostic(`the job ended ${endMs} ms after the master was told to stop, ${outcome.received} results`);
    assert.ok(isPalmError(outcome.error, "PALM_ERR_SERVER_STOPPED"), String(outcome.error));
    assert.match((outcome.error as Error).message, /Server "server" stopped/);
    assert.ok(endMs < 1000, `ended ${endMs} ms after the stop`);
    assert.ok(outcome.received < total);
    // An eval sent as the master was told to stop ends as promptly: answered in the drain, or refused.
    const evalOutcome = await pendingEval!;
    assert.ok(
      evalOutcome.at - stoppedAt < 1000,
      `the eval ended ${evalOutcome.at - stoppedAt} ms after the stop`,
    );
    if (evalOutcome.error)
      assert.ok(isPalmError(evalOutcome.error, "PALM_ERR_SERVER_STOPPED"), String(evalOutcome.error));
    await master.waitFor((l) => l.event === "stopped");
  });

  it("ends its own job within 100 ms and rejects a pending eval with PALM_ERR_CLIENT_STATE when it stops", async () => {
    const addresses = await masterAddresses();
    const master = await startMaster(addresses);
    await startWorkers(master, addresses, ["w1"], 2000);
    const client = await startClient(addresses, { timeoutMs: 30_000 });
    let stoppedAt = 0;
    let pendingEval: Promise<unknown> | undefined;
    const outcome = await runJob(client.job("server.echo", payloads(6000)), (received) => {
      if (received !== 300) return;
      // A call the worker cannot have answered yet: behind the job's window.
      pendingEval = client.eval("server.echo", Buffer.from("eval")).then(
        () => "answered",
        (error: unknown) => error,
      );
      // Stop from outside the job's loop, while it waits for its next result.
      setTimeout(() => {
        stoppedAt = Date.now();
        void client.stop();
      }, 20);
    });
    const endMs = outcome.endedAt - stoppedAt;
    assert.ok(isPalmError(outcome.error, "PALM_ERR_CLIENT_STATE"), String(outcome.error));
    assert.match((outcome.error as Error).message, /The client stopped/);
    assert.ok(endMs < 100, `the job ended ${endMs} ms after client.stop()`);
    const evalError = await pendingEval;
    assert.ok(isPalmError(evalError, "PALM_ERR_CLIENT_STATE"), String(evalError));
    assert.ok(!(evalError instanceof RemoteError), "nothing remote failed");
  });

  it("says the server went silent when its Master stops heartbeating (kill -STOP)", async (t) => {
    const addresses = await masterAddresses();
    const master = await startMaster(addresses);
    await startWorkers(master, addresses, ["w1"], 0);
    const client = await startClient(addresses, { timeoutMs: 5000 });
    assert.equal(text(await client.eval("server.echo", Buffer.from("before"))), "before");
    process.kill(master.pid, "SIGSTOP");
    try {
      const started = Date.now();
      const error = await client.eval("server.echo", Buffer.from("after")).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      t.diagnostic(`${(error as Error | undefined)?.message} (after ${Date.now() - started} ms)`);
      assert.ok(isPalmError(error, "PALM_ERR_SERVER_STOPPED"), String(error));
      assert.match(
        (error as PalmError).message,
        /server "server" went silent, nothing heard from it for \d+ ms/,
      );
    } finally {
      process.kill(master.pid, "SIGCONT");
    }
  });
});

describe("Client: a Master restart loses nothing", () => {
  it("gets all 6,000 results exactly once across a kill -9 of the Master at 30 %, restarted after 500 ms", async (t) => {
    // A worker busy with a batch of synchronous 2 ms calls sends no heartbeat meanwhile: on a loaded
    // machine a batch can outlast the default workerTimeoutMs (2 s), the worker is declared lost, and its
    // messages run again and again until maxAttempts. That is worker liveness, not this test's subject:
    // give the workers 10 s, and keep batches short with a window of 200 (the restarted master hands
    // what the client sends again to the first worker that rejoins).
    const addresses = { ...(await masterAddresses()), workerTimeoutMs: 10_000 };
    const master = await startMaster(addresses);
    await startWorkers(master, addresses, ["w1", "w2"], 2000);
    const client = await startClient(addresses, { timeoutMs: 30_000, window: 200 });
    const total = 6000;
    let killedAt = 0;
    let restarted: Promise<FixtureProcess> | undefined;
    const started = Date.now();
    const outcome = await runJob(client.job("server.echo", payloads(total)), (received) => {
      if (received !== total * 0.3) return;
      killedAt = Date.now();
      restarted = master.kill("SIGKILL").then(async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        return startMaster(addresses);
      });
    });
    const second = await restarted!;
    second.command({ cmd: "stats" });
    const stats = await second.waitFor((l) => l.event === "stats");
    const ledger = stats.ledger as { size: number; duplicates: number };
    const events = (p: FixtureProcess) =>
      p.lines
        .filter((l) => l.event === "worker.lost" || l.event === "messages.redelivered")
        .map((l) => `${l.event}${l.reason ? `(${l.reason}, ${l.count}, failed ${l.failed})` : ""}`);
    t.diagnostic(
      `first master: ${events(master).join(", ") || "-"}; second: ${events(second).join(", ") || "-"}`,
    );
    t.diagnostic(
      `job ${outcome.endedAt - started} ms, ${outcome.endedAt - killedAt} ms after the kill; resent by the client: ${client.resentMessages}; duplicates dropped by the client: ${client.unexpectedResults}, by the new master: ${ledger.duplicates}`,
    );
    assert.equal(outcome.error, undefined, String(outcome.error));
    assert.equal(outcome.received, total);
    assert.equal(outcome.errors, 0, outcome.firstError?.message);
    assert.equal(outcome.counts.size, total, "every result arrived");
    for (const [tag, count] of outcome.counts) assert.equal(count, 1, `${tag} arrived ${count} times`);
    assert.ok(client.resentMessages > 0, "what the dead master held was sent again");
    assert.equal(ledger.size, 0, "nothing left in flight");
  });
});

describe("Client: bounded memory", () => {
  it("grows its live heap by less than 20 MB over a 1,000,000-message job", async (t) => {
    const probe = startFixture("clientHeapProcess.ts", { messages: 1_000_000 }, { name: "heap" });
    processes.push(probe);
    const done = await probe.waitFor((l) => l.event === "done", 240_000);
    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    t.diagnostic(
      `1,000,000 results in ${done.ms} ms; live heap ${mb(done.baseline as number)} MB before, largest growth ${mb(done.growth as number)} MB`,
    );
    assert.equal(done.received, 1_000_000);
    assert.equal(done.unexpected, 0);
    assert.ok((done.growth as number) < 20 * 2 ** 20, `grew by ${mb(done.growth as number)} MB`);
  });
});

describe("JobLedger", () => {
  const result = (id: string | undefined, fn = "s.f") => createMessage({ id, function: fn });

  it("keeps only what waits for a result, and drops duplicates under any id a message was sent with", () => {
    const ledger = new JobLedger("c:1#", { splitLimit: 2 });
    for (let i = 0; i < 4; i++) ledger.sent(i, createMessage({ id: `c:1#${i}` }));
    assert.equal(ledger.take(result("c:1#0")), true);
    assert.equal(ledger.take(result("c:1#0")), false, "a duplicate");
    assert.equal(ledger.take(result("c:1#1@1")), true, "the result of a message sent again after a restart");
    assert.equal(ledger.take(result("c:1#1")), false, "the first copy's result came too");
    assert.deepEqual(
      [...ledger.unanswered()].map((m) => m.id),
      ["c:1#2", "c:1#3"],
    );
    // Split results (`/k`) are told apart by index and k, whatever copy they came from, in a bounded ring.
    assert.equal(ledger.take(result("c:1#2/0")), true);
    assert.equal(ledger.take(result("c:1#2@1/0")), false);
    assert.equal(ledger.take(result("c:1#2/1")), true);
    assert.equal(ledger.take(result("c:1#3/0")), true);
    assert.equal(ledger.take(result("c:1#2/0")), true, "forgotten: the ring holds the last 2");
    assert.equal(ledger.pending, 0);
  });

  it("times each message's first result with its timer, under any id it came back with", () => {
    let clock = 100;
    const timed: string[] = [];
    const ledger = new JobLedger("c:1#", {
      splitLimit: 8,
      timer: {
        sent: () => clock++,
        answered: (message, sentAt) => timed.push(`${message.id ?? "-"}=${sentAt}`),
      },
    });
    for (let i = 0; i < 5; i++) ledger.sent(i, createMessage({ id: `c:1#${i}` }));
    assert.equal(ledger.take(result("c:1#1")), true);
    assert.equal(ledger.take(result("c:1#1")), false, "a duplicate");
    assert.equal(ledger.take(result("c:1#0@1")), true, "sent again after a restart");
    assert.equal(ledger.take(result("c:1#2/0")), true);
    assert.equal(ledger.take(result("c:1#2/1")), true, "a second split result: passed on, not timed");
    assert.equal(ledger.take(result(undefined)), true, "no id (pylm): the oldest pending is answered");
    assert.equal(ledger.take(result("other:1#4")), true, "not this job's: passed on, not timed");
    assert.deepEqual(timed, ["c:1#1=101", "c:1#0@1=100", "c:1#2/0=102", "-=103"]);
    assert.deepEqual(
      [...ledger.unanswered()].map((m) => m.id),
      ["c:1#4"],
    );
  });

  it("keeps every pending message's send time across many turns of its ring, stragglers too", () => {
    const timed = new Map<string, number>();
    let now = 0;
    // A window of 4: a ring of 64 send times, stragglers copied out every 32 messages.
    const ledger = new JobLedger("c:1#", {
      window: 4,
      timer: { sent: () => now, answered: (message, sentAt) => timed.set(message.id as string, sentAt) },
    });
    const late = new Set([5, 40, 41, 300]);
    // Indices 600 to 619 are never sent (too large to send); 608, where a copy falls due, among them.
    const skipped = (index: number) => index >= 600 && index < 620;
    // Message i is sent at 1000 + i and answered four messages later, but for the stragglers.
    for (let index = 0; index < 1000; index++) {
      if (!skipped(index)) {
        now = 1000 + index;
        ledger.sent(index, createMessage({ id: `c:1#${index}` }));
      }
      const answer = index - 4;
      if (answer >= 0 && !late.has(answer) && !skipped(answer)) ledger.take(result(`c:1#${answer}`));
    }
    for (const index of late) ledger.take(result(`c:1#${index}`));
    for (let index = 996; index < 1000; index++) ledger.take(result(`c:1#${index}`));
    assert.equal(ledger.pending, 0);
    assert.equal(timed.size, 980);
    const wrong = [...timed].filter(([id, sentAt]) => sentAt !== 1000 + Number(id.slice(4)));
    assert.deepEqual(wrong, [], "each result timed from its own message's send");
  });
});
