import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type Logger, pino } from "pino";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Pipeline } from "../actors/servers/pipeline.js";
import { Server } from "../actors/servers/server.js";
import { msgpackCodec } from "../src/codec/index.js";
import { RemoteError } from "../src/errors.js";
import { createMessage } from "../src/message.js";
import { STREAM_CACHE_KEY } from "../src/streams/protocol.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";

const quiet = { logLevel: "silent" } as const;

async function masterAddresses() {
  const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
  const pullAddress = pull!;
  const pubAddress = pub!;
  return {
    name: "server",
    pullAddress,
    pubAddress,
    workerPullAddress: workerPull!,
    workerPushAddress: workerPush!,
    dbAddress: db!,
  };
}

/** Counts each result's text; the job's payloads are `<prefix><i>`. */
function tally(counts: Map<string, number>, result: Uint8Array | RemoteError): void {
  if (result instanceof RemoteError) throw result;
  const tag = Buffer.from(result).toString();
  counts.set(tag, (counts.get(tag) ?? 0) + 1);
}

function assertExactlyOnce(counts: Map<string, number>, total: number, prefix: string): void {
  assert.equal(counts.size, total, `${counts.size} of ${total} distinct results`);
  for (let i = 0; i < total; i++) assert.equal(counts.get(`${prefix}${i}`), 1, `${prefix}${i}`);
}

function payloads(total: number, prefix: string): Iterable<Buffer> {
  return (function* () {
    for (let i = 0; i < total; i++) yield Buffer.from(`${prefix}${i}`);
  })();
}

describe("per-client result streams", () => {
  const processes: FixtureProcess[] = [];
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    await Promise.all(processes.map((p) => p.kill()));
  });
  /** A Master in this process (so its options can be set) and one worker process. */
  const masterWithWorker = async (options: {
    slowConsumerMs: number;
    highWaterMark?: number;
    logger?: Logger;
  }) => {
    const addresses = await masterAddresses();
    const master = new Master({ ...addresses, ...quiet, ...options });
    await master.start();
    closers.push(() => master.stop());
    const worker = startFixture(
      "workerProcess.ts",
      { name: "w1", dbAddress: addresses.dbAddress },
      { name: "w1" },
    );
    processes.push(worker);
    await worker.waitFor((l) => l.event === "ready");
    return addresses;
  };

  it("a raw SUB on '' with HWM 10 that never reads does not hold back a 200,000-message job", async (t) => {
    const addresses = await masterAddresses();
    const master = startFixture("masterProcess.ts", addresses, { name: "master" });
    processes.push(master);
    await master.waitFor((l) => l.event === "ready");
    for (const name of ["w1", "w2"]) {
      const worker = startFixture("workerProcess.ts", { name, dbAddress: addresses.dbAddress }, { name });
      processes.push(worker);
    }
    await master.waitFor((l) => l.event === "worker.joined");
    const total = 200_000;
    const client = startFixture(
      "clientProcess.ts",
      {
        serverName: "server",
        dbAddress: addresses.dbAddress,
        function: "server.echo",
        messages: total,
        progressEvery: 10_000,
        timeoutMs: 60_000,
      },
      { name: "client" },
    );
    processes.push(client);
    await client.waitFor((l) => l.event === "progress");
    // Connected during the job: subscribed to everything, a tiny queue, and never read.
    const stuck = new zmq.Subscriber({ receiveHighWaterMark: 10, linger: 0 });
    closers.push(() => stuck.close());
    stuck.connect(addresses.pubAddress);
    stuck.subscribe("");
    const done = await client.waitFor((l) => l.event === "done" || l.event === "failed", 600_000);
    t.diagnostic(`200,000 results in ${done.ms} ms with a stuck subscriber connected`);
    assert.equal(done.event, "done", JSON.stringify(done));
    assert.equal(done.received, total);
    assert.equal(done.distinct, total);
    assert.equal(done.duplicated, 0);
    assert.equal(done.errors, 0);
    assert.equal(done.unexpected, 0);
  });

  it("a palm client paused for 20 s holds back nobody, and gets all its results after", async (t) => {
    const addresses = await masterWithWorker({ slowConsumerMs: 2000 });
    const options = { serverName: "server", dbAddress: addresses.dbAddress, timeoutMs: 60_000, ...quiet };
    const paused = new Client({ ...options, window: 500 });
    const other = new Client(options);
    await Promise.all([paused.start(), other.start()]);
    closers.push(
      () => paused.stop(),
      () => other.stop(),
    );

    const pausedCounts = new Map<string, number>();
    const pausedTotal = 3000;
    let resumedAt = 0;
    let otherDoneAt = 0;
    const pausedRun = (async () => {
      let seen = 0;
      for await (const result of paused.job("server.echo", payloads(pausedTotal, "p-"))) {
        tally(pausedCounts, result);
        // Pauses longer than slowConsumerMs: it must not be cut off, its socket is read all along.
        if (++seen === 100) {
          await new Promise((resolve) => setTimeout(resolve, 20_000));
          resumedAt = Date.now();
        }
      }
    })();
    const otherCounts = new Map<string, number>();
    const otherTotal = 20_000;
    for await (const result of other.job("server.echo", payloads(otherTotal, "o-")))
      tally(otherCounts, result);
    otherDoneAt = Date.now();
    await pausedRun;
    t.diagnostic(
      `the other client's ${otherTotal} results came ${resumedAt - otherDoneAt} ms before the pause ended`,
    );
    assert.ok(
      resumedAt > 0 && otherDoneAt < resumedAt,
      "the other client finished while this one was paused",
    );
    assertExactlyOnce(otherCounts, otherTotal, "o-");
    assertExactlyOnce(pausedCounts, pausedTotal, "p-");
    assert.equal(paused.unexpectedResults + other.unexpectedResults, 0);
  });

  it("a pipeline whose second stage is slow loses nothing", async () => {
    const [db1, pull1, pub1, db2, pub2] = await freeEndpoints(5);
    const first = new Server({
      name: "first",
      dbAddress: db1!,
      pullAddress: pull1!,
      pubAddress: pub1!,
      pipelined: true,
      ...quiet,
    });
    await first.start();
    closers.push(() => first.stop());
    const second = new Pipeline({
      name: "second",
      dbAddress: db2!,
      subAddress: pub1!,
      pubAddress: pub2!,
      previous: "first",
      functions: {
        slow: async (payload) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return payload;
        },
      },
      ...quiet,
    });
    await second.start();
    closers.push(() => second.stop());
    const client = new Client({
      serverName: "first",
      dbAddress: db1!,
      subAddress: pub2!,
      timeoutMs: 60_000,
      ...quiet,
    });
    await client.start();
    closers.push(() => client.stop());
    const counts = new Map<string, number>();
    const total = 2000;
    for await (const result of client.job(["first.echo", "second.slow"], payloads(total, "s-")))
      tally(counts, result);
    assertExactlyOnce(counts, total, "s-");
    assert.equal(client.unexpectedResults, 0);
  });

  it("a client whose stream stays full is cut off during another client's job, which is served meanwhile", async (t) => {
    // The server's warnings, with how many results the other client had when each was logged.
    let otherReceived = 0;
    const cutOffs: Array<{ reason: string; otherReceived: number }> = [];
    const logger = pino(
      { level: "warn" },
      {
        write: (line: string) => {
          const entry = JSON.parse(line) as { msg?: string; reason?: string };
          if (entry.msg?.includes("cut off")) cutOffs.push({ reason: entry.reason ?? "", otherReceived });
        },
      },
    );
    const addresses = await masterWithWorker({ slowConsumerMs: 300, highWaterMark: 2, logger });
    const client = new Client({ serverName: "server", dbAddress: addresses.dbAddress, ...quiet });
    await client.start();
    closers.push(() => client.stop());
    const streamAddress = Buffer.from(await client.get(STREAM_CACHE_KEY)).toString();
    // A peer that opens a stream as a palm client would, then never reads it.
    const id = "stuck-client";
    const dealer = new zmq.Dealer({ routingId: id, receiveHighWaterMark: 2, linger: 0 });
    const push = new zmq.Push({ linger: 0 });
    closers.push(() => {
      dealer.close();
      push.close();
    });
    dealer.connect(streamAddress);
    await dealer.send(["hello", "100000"]);
    const [welcome] = await dealer.receive();
    assert.equal(welcome!.toString(), "welcome");
    push.connect(addresses.pullAddress);
    const big = Buffer.alloc(256 * 1024, 1);
    for (let i = 0; i < 200; i++) {
      const message = createMessage({ client: id, pipeline: id, function: "server.echo", payload: big });
      await push.send(msgpackCodec.encodeOne({ ...message, id: `${id}:${i}` }));
    }
    // The palm client is served while the stuck one's stream is full, and the stuck one is cut off meanwhile:
    // the job goes on until the cut-off was logged, and at least one more result comes after it.
    const total = 200_000;
    let afterCutOff = 0;
    for await (const result of client.job("server.echo", payloads(total, "c-"))) {
      assert.ok(!(result instanceof RemoteError), String(result));
      otherReceived++;
      if (cutOffs.length > 0) afterCutOff++;
      if (afterCutOff === 1000) break;
    }
    t.diagnostic(`cut off after ${cutOffs[0]?.otherReceived} of the other client's results`);
    assert.equal(cutOffs.length, 1, JSON.stringify(cutOffs));
    assert.match(cutOffs[0]!.reason, /slowConsumerMs/);
    assert.ok(otherReceived < total, "the cut-off came while the other client's job ran");
    // Reading now: what ZeroMQ had queued, then the cut-off notice naming slowConsumerMs.
    let read = 0;
    for (;;) {
      const [tag, body] = await dealer.receive();
      if (tag!.toString() === "cutoff") {
        assert.match(body!.toString(), /slowConsumerMs/);
        break;
      }
      assert.equal(tag!.toString(), "results");
      read++;
    }
    assert.ok(read < 200, `${read} result frames reached the stuck client before its cut-off`);
  });
});
