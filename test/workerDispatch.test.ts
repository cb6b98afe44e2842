import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import * as zmq from "zeromq";
import { Worker } from "../actors/worker.js";
import { msgpackCodec } from "../src/codec/index.js";
import {
  DISPATCH_CACHE_KEY,
  DISPATCH_PENDING,
  decodeBeat,
  decodeCredit,
  decodeHello,
  dispatchTags,
  encodeRevoke,
  encodeWorkHeader,
  readTag,
  type WorkerBeat,
  type WorkerCredit,
  type WorkerHello,
} from "../src/dispatch/protocol.js";
import { isPalmError } from "../src/errors.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { addressReleased } from "../src/sockets/addressReleased.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { startFixture } from "./fixtures/jsonProcess.js";

const codec = msgpackCodec;

/** One multipart message the fake master's ROUTER received, by tag. */
interface Received {
  readonly from: string;
  readonly tag: string | undefined;
  readonly at: number;
  readonly hello?: WorkerHello;
  readonly beat?: WorkerBeat;
  readonly credit?: WorkerCredit;
  readonly results?: PalmMessage[];
}

/**
 * A master reduced to what a worker talks to: a cache REP that answers `get` (the dispatch address under
 * DISPATCH_CACHE_KEY) and a ROUTER that records everything the workers send.
 */
class FakeMaster {
  readonly received: Received[] = [];
  readonly #cache = new zmq.Reply({ linger: 0 });
  readonly #router = new zmq.Router({ linger: 0 });
  readonly #listeners: Array<() => void> = [];
  readonly dbAddress: string;
  readonly dispatchAddress: string;
  /** How many more asks for DISPATCH_CACHE_KEY are answered DISPATCH_PENDING (a master still starting). */
  pending = 0;
  /** How many times DISPATCH_CACHE_KEY was asked for. */
  dispatchAsks = 0;
  #closed = false;
  /** Whether every hello is answered with `welcome` (as a palm master does). */
  welcomes = true;

  private constructor(dbAddress: string, dispatchAddress: string) {
    this.dbAddress = dbAddress;
    this.dispatchAddress = dispatchAddress;
  }

  static async start(
    addresses?: { dbAddress: string; dispatchAddress: string },
    pending = 0,
  ): Promise<FakeMaster> {
    const [db, dispatch] = addresses
      ? [addresses.dbAddress, addresses.dispatchAddress]
      : await freeEndpoints(2);
    const master = new FakeMaster(db!, dispatch!);
    master.pending = pending;
    await master.#router.bind(master.dispatchAddress);
    await master.#cache.bind(master.dbAddress);
    void master.#serveCache();
    void master.#read();
    return master;
  }

  async #serveCache(): Promise<void> {
    try {
      for await (const [frame] of this.#cache) {
        const [request] = codec.decode(frame!);
        const key = Buffer.from(request!.payload).toString();
        if (key === DISPATCH_CACHE_KEY) this.dispatchAsks++;
        const pending = key === DISPATCH_CACHE_KEY && this.pending > 0 && this.pending-- > 0;
        await this.#cache.send(
          key !== DISPATCH_CACHE_KEY ? "" : pending ? DISPATCH_PENDING : this.dispatchAddress,
        );
      }
    } catch {
      // Closed.
    }
  }

  async #read(): Promise<void> {
    try {
      for await (const [from, tagFrame, body] of this.#router) {
        const tag = readTag(tagFrame);
        const entry: Received = {
          from: from!.toString(),
          tag,
          at: Date.now(),
          ...(tag === "hello" ? { hello: decodeHello(body) } : {}),
          ...(tag === "beat" ? { beat: decodeBeat(body) } : {}),
          ...(tag === "credit" ? { credit: decodeCredit(body) } : {}),
          ...(tag === "results" ? { results: codec.decode(body!) } : {}),
        };
        this.received.push(entry);
        // A palm master welcomes a worker once it registered it: the worker's start() resolves on it.
        if (tag === "hello" && this.welcomes) await this.welcome(entry.from);
        for (const listener of this.#listeners.splice(0)) listener();
      }
    } catch {
      // Closed.
    }
  }

  /** Resolves once `done` holds for what was received (checked at every arrival). */
  async until<T>(done: (received: Received[]) => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = done(this.received);
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`fake master: condition not met within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  results(from?: string): PalmMessage[] {
    return this.received
      .filter((r) => r.tag === "results" && (from === undefined || r.from === from))
      .flatMap((r) => r.results ?? []);
  }

  /** Hands `messages` to worker `to` with dispatch sequence numbers from `seq` (deadlines in ms, 0 none). */
  work(to: string, seq: number, messages: PalmMessage[], deadlines?: number[]): Promise<void> {
    const header = encodeWorkHeader({ seq, deadlines: deadlines ?? messages.map(() => 0) });
    return this.#router.send([to, dispatchTags.work, header, codec.encode(messages)[0]!]);
  }

  revoke(to: string, seqs: number[]): Promise<void> {
    return this.#router.send([to, dispatchTags.revoke, encodeRevoke({ seqs })]);
  }

  welcome(to: string): Promise<void> {
    return this.#router.send([to, dispatchTags.welcome]);
  }

  who(to: string): Promise<void> {
    return this.#router.send([to, dispatchTags.who]);
  }

  /** Closes both sockets; resolves once their ports can be bound again. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.close();
    this.#router.close();
    await Promise.all([addressReleased(this.dbAddress), addressReleased(this.dispatchAddress)]);
  }
}

const call = (fn: string, id: string, payload: string | Uint8Array = id): PalmMessage =>
  createMessage({
    function: `server.${fn}`,
    id,
    payload: typeof payload === "string" ? Buffer.from(payload) : payload,
  });

const text = (message: PalmMessage) => Buffer.from(message.payload).toString();

describe("Worker with a palm master (dispatch protocol, raw ROUTER as the master)", () => {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function started(
    options: Partial<ConstructorParameters<typeof Worker>[0]> = {},
    functions: ConstructorParameters<typeof Worker>[0]["functions"] = {},
  ) {
    const master = await FakeMaster.start();
    closers.push(() => master.close());
    const worker = new Worker({
      name: "w",
      dbAddress: master.dbAddress,
      logLevel: "silent",
      heartbeatIntervalMs: 100,
      ...options,
      functions: { echo: (payload: Uint8Array) => payload, ...functions },
    });
    await worker.start();
    closers.push(() => worker.stop());
    const hello = await master.until((r) => r.find((x) => x.tag === "hello" && x.from === worker.id));
    return { master, worker, hello };
  }

  it("announces itself with hello: id, name, pid, host, prefetch, heartbeat interval and declared timeouts", async () => {
    const { hello } = await started({ prefetch: 7, timeouts: { echo: 1234 } });
    assert.ok(hello.hello, "the hello decodes");
    assert.equal(hello.hello.name, "w");
    assert.equal(hello.hello.pid, process.pid);
    assert.equal(hello.hello.prefetch, 7);
    assert.equal(hello.hello.heartbeatMs, 100);
    assert.deepEqual(hello.hello.timeouts, { echo: 1234 });
    assert.equal(hello.hello.holding, undefined);
    assert.equal(typeof hello.hello.host, "string");
  });

  it("runs exactly what it is handed and answers each message with its id, from its own routing id", async () => {
    let calls = 0;
    const { master, worker } = await started(
      { prefetch: 4 },
      {
        count: (payload: Uint8Array) => {
          calls++;
          return payload;
        },
      },
    );
    await master.work(worker.id, 0, [call("count", "a"), call("count", "b"), call("count", "c")]);
    await master.until(() => master.results(worker.id).length === 3 || undefined);
    await master.work(worker.id, 3, [call("count", "d")]);
    await master.until(() => master.results(worker.id).length === 4 || undefined);
    // Nothing else arrives: the worker runs what it is handed, no more.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      master.results().map((m) => [m.id, text(m), m.error]),
      [
        ["a", "a", undefined],
        ["b", "b", undefined],
        ["c", "c", undefined],
        ["d", "d", undefined],
      ],
    );
    assert.equal(calls, 4);
    assert.deepEqual(worker.dispatchCounts, { handed: 4, started: 4, revoked: 0, results: 4 });
  });

  it("asks for less credit once its calls prove slow, and for its prefetch again once they are quick", async () => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const { master, worker } = await started(
      { prefetch: 64 },
      {
        // 25 ms of a blocking synchronous call: about 100 ms of work is 4 calls.
        block: (payload: Uint8Array) => {
          Atomics.wait(cell, 0, 0, 25);
          return payload;
        },
      },
    );
    const slow = Array.from({ length: 12 }, (_, i) => call("block", `b${i}`));
    await master.work(worker.id, 0, slow);
    const asked = await master.until((r) => r.find((x) => x.tag === "credit" && x.from === worker.id));
    assert.ok(asked.credit, "the credit decodes");
    assert.ok(asked.credit.prefetch >= 2 && asked.credit.prefetch <= 8, `asked ${asked.credit.prefetch}`);
    await master.until(() => master.results(worker.id).length === 12 || undefined);
    // Quick calls bring its average down: it asks for its whole prefetch again.
    const full = () => master.received.some((x) => x.tag === "credit" && x.credit?.prefetch === 64);
    // It tells the master at most every 100 ms, and only while it works: work until it has.
    for (let k = 0; k < 300 && !full(); k++) {
      const quick = Array.from({ length: 20 }, (_, i) => call("echo", `e${k}.${i}`));
      await master.work(worker.id, 12 + k * 20, quick);
      await master.until(() => master.results(worker.id).length === 12 + (k + 1) * 20 || undefined);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    assert.ok(full(), "it asked for its whole prefetch again");
  });

  it("answers who with a new hello listing the ids it still holds", async () => {
    let release: (() => void) | undefined;
    const { master, worker } = await started(
      {},
      {
        hold: (payload: Uint8Array) =>
          new Promise<Uint8Array>((resolve) => {
            release = () => resolve(payload);
          }),
      },
    );
    await master.work(worker.id, 0, [call("hold", "h1")]);
    await master.until(() => (release ? true : undefined));
    await master.who(worker.id);
    const hellos = await master.until((r) => {
      const found = r.filter((x) => x.tag === "hello" && x.from === worker.id);
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(hellos[1]!.hello?.holding, ["h1"]);
    release!();
    await master.until(() => master.results(worker.id).length === 1 || undefined);
    assert.equal(master.results()[0]!.id, "h1");
  });

  it("is a supervised part: a crashed Dispatch part restarts and announces again what the worker holds", async () => {
    let release: (() => void) | undefined;
    const { master, worker } = await started(
      {},
      {
        hold: (payload: Uint8Array) =>
          new Promise<Uint8Array>((resolve) => {
            release = () => resolve(payload);
          }),
      },
    );
    assert.deepEqual(
      worker.parts().map((p) => [p.name, p.partType, p.kind]),
      [["Dispatch", "DispatchConnection", "bypass"]],
    );
    await master.work(worker.id, 0, [call("hold", "h1")]);
    await master.until(() => (release ? true : undefined));
    const restarted = new Promise<void>((resolve) => worker.on("part.restarted", () => resolve()));
    worker.crash("Dispatch");
    await restarted;
    const hellos = await master.until((r) => {
      const found = r.filter((x) => x.tag === "hello" && x.from === worker.id);
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(hellos[1]!.hello?.holding, ["h1"]);
    release!();
    await master.until(() => master.results(worker.id).length === 1 || undefined);
    assert.equal(master.results()[0]!.id, "h1");
    assert.equal(worker.parts()[0]!.restarts, 1);
  });

  it("announces itself again to a master restarted on the same address, and follows one that moved", async () => {
    const { master, worker } = await started();
    const { dbAddress, dispatchAddress } = master;
    await master.close();
    // Back on the same addresses: the worker's DEALER reconnects and says hello at once.
    const same = await FakeMaster.start({ dbAddress, dispatchAddress });
    closers.push(() => same.close());
    const again = await same.until((r) => r.find((x) => x.tag === "hello" && x.from === worker.id), 10_000);
    assert.equal(again.hello?.id, worker.id);
    await same.close();
    // Back at a new dispatch port (a wildcard port in a new process): the worker asks the cache again.
    const [moved] = await freeEndpoints(1);
    const elsewhere = await FakeMaster.start({ dbAddress, dispatchAddress: moved! });
    closers.push(() => elsewhere.close());
    await elsewhere.until((r) => r.find((x) => x.tag === "hello" && x.from === worker.id), 15_000);
    await elsewhere.until((r) => r.find((x) => x.tag === "beat" && x.from === `${worker.id}#beat`), 5000);
    await elsewhere.work(worker.id, 0, [call("echo", "after")]);
    await elsewhere.until(() => elsewhere.results(worker.id).length === 1 || undefined);
  });

  it("says bye when it stops, after the results of the calls under way", async () => {
    const { master, worker } = await started(
      {},
      {
        slow: (payload: Uint8Array) => new Promise((resolve) => setTimeout(() => resolve(payload), 300)),
      },
    );
    await master.work(worker.id, 0, [call("slow", "s1")]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await worker.stop();
    // A 300 ms call may also make the worker ask for less credit (how much it holds follows its calls'
    // time), depending on whether its stop began first: that message is beside the point here.
    const fromWorker = master.received
      .filter((r) => r.from === worker.id && r.tag !== "credit")
      .map((r) => r.tag);
    assert.deepEqual(fromWorker, ["hello", "results", "bye"]);
    assert.equal(master.results()[0]!.id, "s1");
  });

  it("fires the call's AbortSignal at the message's deadline", async () => {
    const { master, worker } = await started(
      {},
      {
        wait: (_payload: Uint8Array, context: { signal: AbortSignal }) =>
          new Promise<Uint8Array>((resolve) => {
            const started = Date.now();
            context.signal.addEventListener("abort", () => {
              const reason = context.signal.reason as unknown;
              resolve(
                Buffer.from(
                  JSON.stringify({
                    ms: Date.now() - started,
                    timeout: isPalmError(reason, "PALM_ERR_TIMEOUT"),
                  }),
                ),
              );
            });
          }),
      },
    );
    await master.work(worker.id, 0, [call("wait", "d1")], [400]);
    const [result] = await master.until(() => {
      const results = master.results(worker.id);
      return results.length === 1 ? results : undefined;
    });
    const seen = JSON.parse(text(result!)) as { ms: number; timeout: boolean };
    assert.equal(seen.timeout, true, "aborted with PALM_ERR_TIMEOUT");
    assert.ok(seen.ms >= 350, `aborted at the deadline, not before (${seen.ms} ms)`);
  });

  it("overlaps async calls: a slow one holds back none of the messages behind it", async () => {
    let running = 0;
    let most = 0;
    const { master, worker } = await started(
      {},
      {
        nap: async (payload: Uint8Array) => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, Number(Buffer.from(payload).toString())));
          running--;
          return payload;
        },
      },
    );
    const messages = [
      call("nap", "slow", "1500"),
      ...Array.from({ length: 10 }, (_, i) => call("nap", `q${i}`, "20")),
    ];
    await master.work(worker.id, 0, messages);
    await master.until(() => master.results(worker.id).length === 11 || undefined);
    const order = master.results().map((m) => m.id);
    assert.equal(order[10], "slow", "every quick result arrives before the slow one");
    assert.equal(most, 11, "all eleven calls ran at once");
  });

  it("answers a result too large for its maxMessageSize with PALM_ERR_CODEC_OVERSIZED", async () => {
    const { master, worker } = await started(
      { maxMessageSize: 100_000 },
      {
        big: () => new Uint8Array(200_000),
      },
    );
    await master.work(worker.id, 0, [call("big", "b1"), call("echo", "e1")]);
    const results = await master.until(() => {
      const r = master.results(worker.id);
      return r.length === 2 ? r : undefined;
    });
    assert.equal(results[0]!.id, "b1");
    assert.match(results[0]!.error ?? "", /^PALM_ERR_CODEC_OVERSIZED: /);
    assert.equal(results[0]!.payload.byteLength, 0);
    assert.equal(results[1]!.error, undefined);
  });
});

describe("Worker process with a palm master (raw ROUTER in the test process)", () => {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function workerProcess(master: { dbAddress: string }, config: Record<string, unknown> = {}) {
    const worker = startFixture("workerProcess.ts", {
      name: "w",
      dbAddress: master.dbAddress,
      heartbeatIntervalMs: 100,
      ...config,
    });
    closers.push(() => worker.kill());
    return worker;
  }

  it("reads revokes between two messages: messages revoked during a synchronous call are skipped", async () => {
    const master = await FakeMaster.start();
    closers.push(() => master.close());
    const worker = await workerProcess(master);
    const { id } = (await worker.waitFor((line) => line.event === "ready")) as unknown as { id: string };
    await master.until((r) => r.some((x) => x.tag === "hello" && x.from === id) || undefined);
    await master.work(id, 10, [
      call("spin", "m10", "800"),
      call("echo", "m11"),
      call("echo", "m12"),
      call("echo", "m13"),
      call("echo", "m14"),
    ]);
    // Sent while `spin` runs in the worker process: read before the next message starts.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // m10 has started: revoking it changes nothing; m11 and m13 have not.
    await master.revoke(id, [10, 11, 13]);
    await master.until(() => master.results(id).length === 3 || undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      master.results(id).map((m) => m.id),
      ["m10", "m12", "m14"],
    );
    worker.command({ cmd: "noop" });
    worker.child.stdin!.end();
    const calls = await worker.waitFor((line) => line.event === "calls" && (line.calls as number) === 3);
    assert.deepEqual(calls.byFunction, { echo: 2, spin: 1, sleep: 0 });
    assert.equal(await worker.exited, 0);
  });

  it("keeps beating from its helper thread through a 3 s synchronous call, reporting it busy", async () => {
    const master = await FakeMaster.start();
    closers.push(() => master.close());
    const worker = await workerProcess(master);
    const { id } = (await worker.waitFor((line) => line.event === "ready")) as unknown as { id: string };
    await master.until((r) => r.some((x) => x.tag === "beat" && x.beat?.id === id) || undefined);
    const sentAt = Date.now();
    await master.work(id, 41, [call("spin", "long", "3000")]);
    await master.until(() => master.results(id).length === 1 || undefined, 30_000);
    const resultAt = master.received.find((r) => r.tag === "results")!.at;
    assert.ok(resultAt - sentAt >= 3000);
    const beats = master.received.filter((r) => r.tag === "beat" && r.at > sentAt && r.at < resultAt);
    // One every 100 ms: about 30 during the call; far fewer would mean the beats waited for the call.
    assert.ok(beats.length >= 10, `beats arrived during the call (${beats.length})`);
    for (const beat of master.received.filter((r) => r.tag === "beat")) {
      assert.equal(beat.from, `${id}#beat`);
      assert.equal(beat.beat?.id, id);
    }
    const busy = beats.filter((b) => b.beat?.busy);
    assert.ok(busy.length >= 5, `beats during the call say busy (${busy.length})`);
    for (const b of busy) assert.equal(b.beat!.busy!.seq, 41);
    assert.ok(Math.max(...busy.map((b) => b.beat!.busy!.ms)) >= 2500);
    // Beats before and after the call are not busy.
    assert.equal(master.received.filter((r) => r.tag === "beat" && r.at < sentAt && r.beat?.busy).length, 0);
  });

  it("stops beating while its process is frozen (SIGSTOP), and beats again after SIGCONT", async () => {
    const master = await FakeMaster.start();
    closers.push(() => master.close());
    const worker = await workerProcess(master);
    const { id } = (await worker.waitFor((line) => line.event === "ready")) as unknown as { id: string };
    await master.until((r) => r.some((x) => x.tag === "beat" && x.beat?.id === id) || undefined);
    process.kill(worker.pid, "SIGSTOP");
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    process.kill(worker.pid, "SIGCONT");
    const resumedAt = Date.now();
    // A beat may have been on its way when the process stopped; none is sent while it is frozen.
    const frozen = master.received.filter(
      (r) => r.tag === "beat" && r.at > stoppedAt + 100 && r.at < resumedAt,
    );
    assert.equal(frozen.length, 0);
    await master.until((r) => r.some((x) => x.tag === "beat" && x.at > resumedAt) || undefined);
  });

  it("started before its master, waits (logged once, no stack) and joins within 1 s of it appearing", async () => {
    const [dbAddress, dispatchAddress] = await freeEndpoints(2);
    const worker = await workerProcess({ dbAddress: dbAddress! });
    // Until it has found no master (a process start can take seconds on a loaded machine).
    const waitingSince = Date.now();
    while (!worker.stderr().includes("master not reachable yet")) {
      assert.ok(Date.now() - waitingSince < 60_000, "the worker says it waits for its master");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const master = await FakeMaster.start({ dbAddress: dbAddress!, dispatchAddress: dispatchAddress! });
    closers.push(() => master.close());
    const upAt = Date.now();
    const hello = await master.until((r) => r.find((x) => x.tag === "hello"), 10_000);
    assert.ok(hello.at - upAt < 1000, `joined ${hello.at - upAt} ms after the master appeared`);
    await worker.waitFor((line) => line.event === "ready");
    const stderr = worker.stderr();
    assert.equal(stderr.split("master not reachable yet").length - 1, 1, stderr);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    worker.child.stdin!.end();
    assert.equal(await worker.exited, 0);
    assert.ok(master.received.some((r) => r.tag === "bye" && r.from === hello.from));
  });

  it("asks again while the master's cache says its dispatch address is pending, then joins over dispatch", async () => {
    const master = await FakeMaster.start(undefined, 3);
    const worker = new Worker({
      name: "w",
      dbAddress: master.dbAddress,
      logLevel: "silent",
      functions: { echo: (payload: Uint8Array) => payload },
    });
    try {
      await worker.start();
      const hello = await master.until((r) => r.find((x) => x.tag === "hello" && x.from === worker.id));
      assert.equal(hello.hello?.name, "w");
      assert.equal(master.dispatchAsks, 4, "three pending answers, then the address");
    } finally {
      await worker.stop();
      master.close();
    }
  });

  it("ends cleanly when stopped while waiting for its master", async () => {
    const [dbAddress] = await freeEndpoints(1);
    const worker = await workerProcess({ dbAddress: dbAddress! });
    await worker.waitFor((line) => line.event === "calls");
    worker.child.stdin!.end();
    assert.equal(await worker.exited, 0);
    assert.equal(worker.lines.filter((line) => line.event === "ready").length, 0);
  });
});

describe("Worker stopped while waiting for its master", () => {
  it("rejects start() with PALM_ERR_SERVER_STOPPED and leaves nothing open", async () => {
    const [dbAddress] = await freeEndpoints(1);
    const worker = new Worker({ name: "w", dbAddress: dbAddress!, logLevel: "silent" });
    const starting = worker.start();
    await new Promise((resolve) => setTimeout(resolve, 600));
    await worker.stop();
    await assert.rejects(starting, (error) => isPalmError(error, "PALM_ERR_SERVER_STOPPED"));
  });
});

describe("Worker start handshake with a palm master", () => {
  it("resolves start() only once the master welcomed it, saying hello again with backoff until then", async () => {
    const master = await FakeMaster.start();
    master.welcomes = false;
    const worker = new Worker({ name: "w", dbAddress: master.dbAddress, logLevel: "silent" });
    let started = false;
    const starting = worker.start().then(() => {
      started = true;
    });
    // Unanswered hellos are repeated (after 250 ms, then 500 ms): start() waits meanwhile.
    const hellos = await master.until((r) => {
      const found = r.filter((x) => x.tag === "hello" && x.from === worker.id);
      return found.length >= 2 ? found : undefined;
    });
    assert.ok(hellos[1]!.at - hellos[0]!.at >= 200, "the second hello waited for the first one's answer");
    assert.equal(started, false);
    await master.welcome(worker.id);
    await starting;
    const count = master.received.filter((r) => r.tag === "hello").length;
    // Welcomed: no more hellos.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal(master.received.filter((r) => r.tag === "hello").length, count);
    await worker.stop();
    await master.close();
  });

  it("rejects start() with PALM_ERR_SERVER_STOPPED when stopped before the master welcomed it", async () => {
    const master = await FakeMaster.start();
    master.welcomes = false;
    const worker = new Worker({ name: "w", dbAddress: master.dbAddress, logLevel: "silent" });
    const starting = worker.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    await master.until((r) => r.find((x) => x.tag === "hello" && x.from === worker.id));
    await worker.stop();
    const error = await starting;
    assert.ok(isPalmError(error, "PALM_ERR_SERVER_STOPPED"), String(error));
    await master.close();
  });
});

describe("Worker with a pylm-style master (PULL/PUSH)", () => {
  it("answers a result too large for its maxMessageSize with PALM_ERR_CODEC_OVERSIZED", async () => {
    const [pushAddress, pullAddress] = await freeEndpoints(2);
    const push = new zmq.Push({ linger: 0 });
    const pull = new zmq.Pull({ linger: 0 });
    await push.bind(pullAddress!);
    await pull.bind(pushAddress!);
    const worker = new Worker({
      name: "w",
      dbAddress: "tcp://127.0.0.1:1",
      pullAddress: pullAddress!,
      pushAddress: pushAddress!,
      heartbeatIntervalMs: 0,
      maxMessageSize: 100_000,
      logLevel: "silent",
      functions: { big: () => new Uint8Array(200_000), echo: (payload: Uint8Array) => payload },
    });
    try {
      await worker.start();
      await push.send(codec.encode([call("big", "b1"), call("echo", "e1")])[0]!);
      const results: PalmMessage[] = [];
      while (results.length < 2) {
        const [frame] = await pull.receive();
        results.push(...codec.decode(frame!));
      }
      assert.deepEqual(
        results.map((m) => m.id),
        ["b1", "e1"],
      );
      assert.match(results[0]!.error ?? "", /^PALM_ERR_CODEC_OVERSIZED: /);
      assert.equal(results[1]!.error, undefined);
    } finally {
      await worker.stop();
      push.close();
      pull.close();
    }
  });
});

describe("Worker options", () => {
  it("rejects a bad prefetch or timeouts, naming the option", () => {
    const base = { name: "w", dbAddress: "tcp://127.0.0.1:5559" };
    assert.throws(() => new Worker({ ...base, prefetch: 0 }), /`prefetch`/);
    assert.throws(() => new Worker({ ...base, prefetch: 1.5 }), /`prefetch`/);
    assert.throws(() => new Worker({ ...base, timeouts: { echo: -1 } }), /`timeouts\.echo`/);
    assert.throws(() => new Worker({ ...base, timeouts: 5 as never }), /`timeouts`/);
  });
});
