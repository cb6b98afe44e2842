import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { RemoteError } from "../src/errors.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { startMaster } from "../src/testing/startMaster.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";

describe("a poison message fails alone, and clients are served in turn", () => {
  const processes: FixtureProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    await Promise.all(processes.map((p) => p.kill()));
  });

  /**
   * A Master, `workers` Worker processes (prefetch 4) and a Client process running a 300-message job whose
   * message "m-150" ends the process of the worker that runs it; each worker that dies is replaced.
   */
  async function poisonJob(workers: number) {
    const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
    const master = startFixture(
      "masterProcess.ts",
      {
        name: "server",
        pullAddress,
        pubAddress,
        workerPullAddress,
        workerPushAddress,
        dbAddress,
        maxAttempts: 3,
        // A replacement worker's process may take seconds to start.
        noWorkerTimeoutMs: 60_000,
      },
      { name: "master" },
    );
    processes.push(master);
    await master.waitFor((l) => l.event === "ready");
    const deaths: Array<number | null> = [];
    let done = false;
    let started = 0;
    const startWorker = () => {
      const name = `w${++started}`;
      const worker = startFixture(
        "workerProcess.ts",
        { name, dbAddress, prefetch: 4, exitOn: "m-150", spinUs: 200 },
        { name },
      );
      processes.push(worker);
      void worker.exited.then((code) => {
        if (done) return;
        deaths.push(code);
        if (started < 10) startWorker();
      });
      return worker;
    };
    const first = Array.from({ length: workers }, startWorker);
    await Promise.all(first.map((w) => w.waitFor((l) => l.event === "ready")));
    const client = startFixture(
      "clientProcess.ts",
      { serverName: "server", dbAddress, function: "server.echo", messages: 300, prefix: "m-", window: 300 },
      { name: "client" },
    );
    processes.push(client);
    const result = await client.waitFor((l) => l.event === "done" || l.event === "failed", 90_000);
    done = true;
    master.command({ cmd: "stats" });
    const stats = await master.waitFor((l) => l.event === "stats");
    const events = master.lines
      .filter(
        (l) => l.event === "messages.redelivered" || l.event === "worker.lost" || l.event === "worker.joined",
      )
      .map(
        (l) =>
          `${l.event}:${(l.worker as { name?: string } | undefined)?.name ?? `${l.reason}/${l.count}/${l.failed}`}`,
      );
    return {
      result,
      deaths,
      events,
      ledger: stats.ledger as { size: number; failed: number; redelivered: number },
    };
  }

  for (const workers of [3, 1])
    it(`fails only the message that kills its workers (process.exit), ${workers} worker process(es) at a time: 1 error, 299 results, none twice`, async (t) => {
      const { result, deaths, ledger, events } = await poisonJob(workers);
      t.diagnostic(
        `${events.join(" ")}; workers died: ${deaths.length} (exit codes ${deaths.join(", ")}); redelivered ${ledger.redelivered}; ${JSON.stringify(result)}`,
      );
      assert.equal(result.event, "done");
      assert.equal(result.received, 300);
      assert.equal(result.errors, 1, "only the poison message failed");
      assert.match(
        String(result.firstError),
        /^no result after 3 attempts: the workers running it were lost/,
      );
      assert.equal(result.distinct, 299, "every other message has its result");
      assert.equal(result.duplicated, 0);
      assert.equal(result.unexpected, 0);
      // It killed exactly maxAttempts workers: the first one held it with others, the next ones ran it alone.
      assert.deepEqual(deaths, [1, 1, 1]);
      assert.equal(ledger.failed, 1);
      assert.equal(ledger.size, 0);
    });

  it("answers a second client's eval during another client's 5,000-message job within a few of its results", async (t) => {
    const cluster = await startMaster({
      workers: 2,
      functions: {
        work: async (payload) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return payload;
        },
      },
      worker: { prefetch: 8 },
      // The job's whole backlog waits at the master, not at the client.
      client: { window: 5000 },
    });
    closers.push(() => cluster.stop());
    const other = new Client({
      serverName: "server",
      dbAddress: cluster.addresses.dbAddress,
      logLevel: "silent",
    });
    await other.start();
    closers.push(() => other.stop());

    const total = 5000;
    const payloads = Array.from({ length: total }, (_, i) => Buffer.from(`a-${i}`));
    const seen = new Set<string>();
    let received = 0;
    let errors = 0;
    let evalAnswered: Promise<number> | undefined;
    for await (const result of cluster.client.job("server.work", payloads)) {
      received++;
      if (result instanceof RemoteError) errors++;
      else seen.add(Buffer.from(result).toString());
      // 200 results in, the rest of the job is queued at the master: the eval goes in behind it.
      if (received === 200)
        evalAnswered = other.eval("server.work", Buffer.from("b")).then((answer) => {
          assert.equal(Buffer.from(answer).toString(), "b");
          return received;
        });
    }
    const jobResultsBefore = await evalAnswered!;
    t.diagnostic(`the eval was answered after ${jobResultsBefore} of the job's ${total} results`);
    assert.equal(received, total);
    assert.equal(errors, 0);
    assert.equal(seen.size, total);
    // Served in turn: it waited for the messages the workers held and about one more, not for the 4,800
    // still queued (the workers hold 16; the job's results in flight to its client add a few frames).
    assert.ok(jobResultsBefore < 200 + 600, `the eval was answered after ${jobResultsBefore} of ${total}`);
  });
});
