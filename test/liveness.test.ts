import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Worker } from "../actors/worker.js";
import { msgpackCodec } from "../src/codec/index.js";
import { isPalmError, RemoteError } from "../src/errors.js";
import { PeerCount } from "../src/liveness/peerCount.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";
import { deliveryOnSimulatedTime } from "./support/deliveryHarness.js";

async function masterOptions() {
  const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
  return {
    name: "server",
    pullAddress: pullAddress!,
    pubAddress: pubAddress!,
    workerPullAddress: workerPullAddress!,
    workerPushAddress: workerPushAddress!,
    dbAddress: dbAddress!,
    logLevel: "silent" as const,
  };
}

describe("worker liveness, on simulated time", () => {
  it("declares a silent worker lost after workerTimeoutMs, asks it who it is when it beats again, and takes it back on hello", () => {
    const d = deliveryOnSimulatedTime({ workerTimeoutMs: 1000 });
    d.hello("w1", 4);
    d.beat("w1");
    d.advance(900);
    assert.equal(d.ledger.workers()[0]?.state, "alive");
    d.advance(500);
    assert.equal(d.ledger.workers()[0]?.state, "lost");
    d.beat("w1");
    assert.deepEqual(d.orders("who"), [{ type: "who", worker: "w1" }]);
    d.hello("w1", 4);
    const joined = d.notices().filter((e) => e.type === "worker.joined");
    assert.deepEqual(
      joined.map((e) => e.type === "worker.joined" && e.rejoined),
      [false, true],
    );
    assert.equal(d.ledger.workers()[0]?.rejoins, 1);
    d.stop();
  });

  it("counts established peers from monitor events, never too few", () => {
    const peers = new PeerCount();
    peers.take("accept");
    peers.take("handshake");
    assert.equal(peers.connected, 1);
    // A port scan: accepted, failed, gone — not a peer that held anything.
    peers.take("accept");
    peers.take("handshakeFailed");
    assert.equal(peers.take("disconnect"), false);
    assert.equal(peers.take("disconnect"), true);
    assert.equal(peers.connected, 0);
  });

  it("does not hand out again a redelivered message whose first result arrived meanwhile", () => {
    const d = deliveryOnSimulatedTime({ redeliverAfterMs: 500, pushPrefetch: 1 });
    d.peers(1);
    d.take("m1", "m2");
    assert.deepEqual(d.pushed(), ["m1"]);
    d.advance(700);
    // m1 went back to the queue behind nothing; its first result arrives before a peer has room for it.
    d.results(undefined, "m1");
    assert.deepEqual(
      d.published().map((m) => m.id),
      ["m1"],
    );
    assert.ok(d.pushed().filter((id) => id === "m1").length <= 2);
    d.stop();
  });
});

describe("worker liveness between processes", () => {
  const processes: FixtureProcess[] = [];
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    await Promise.all(processes.map((p) => p.kill()));
  });

  it("announces workers at start and keeps their last-seen times", async () => {
    const options = await masterOptions();
    const master = new Master(options);
    const joined: string[] = [];
    master.on("worker.joined", (event) => joined.push(event.worker.name));
    await master.start();
    closers.push(() => master.stop());
    const worker = new Worker({
      name: "w1",
      dbAddress: options.dbAddress,
      logLevel: "silent",
      functions: {},
    });
    await worker.start();
    closers.push(() => worker.stop());
    const started = Date.now();
    while (joined.length === 0 && Date.now() - started < 2000) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(joined, ["w1"]);
    // Its heartbeats come from a thread of their own, which takes a moment to start on a loaded machine.
    while ((master.workers()[0]?.heartbeats ?? 0) < 3 && Date.now() - started < 10_000)
      await new Promise((r) => setTimeout(r, 50));
    const [info] = master.workers();
    assert.equal(info?.id, worker.id);
    assert.equal(info?.state, "alive");
    assert.ok((info?.heartbeats ?? 0) >= 3, `${info?.heartbeats} heartbeats`);
    assert.ok(Date.now() - (info?.lastSeen ?? 0) < 1000);
  });

  it("serves workers that do not heartbeat (pylm's): lost messages come back by timeout, a poison one as an error", async () => {
    const options = await masterOptions();
    const master = new Master({ ...options, redeliverAfterMs: 400, maxAttempts: 3 });
    await master.start();
    closers.push(() => master.stop());
    // A raw worker, as pylm's: no heartbeats; it drops the first copy of every tenth message and never
    // answers "poison" (as if it crashed on it and restarted).
    const pull = new zmq.Pull({ linger: 0 });
    const push = new zmq.Push({ linger: 0 });
    pull.connect(options.workerPushAddress);
    push.connect(options.workerPullAddress);
    closers.push(() => {
      pull.close();
      push.close();
    });
    const seen = new Set<string>();
    let poisonTries = 0;
    void (async () => {
      for await (const [frame] of pull) {
        const out = msgpackCodec.decode(frame!).filter((m) => {
          const tag = Buffer.from(m.payload).toString();
          if (tag === "poison") {
            poisonTries++;
            return false;
          }
          const first = !seen.has(tag);
          seen.add(tag);
          return !(first && Number(tag.slice(2)) % 10 === 0);
        });
        if (out.length > 0) await push.send(msgpackCodec.encode(out)[0]!);
      }
    })();
    const client = new Client({ serverName: "server", dbAddress: options.dbAddress, logLevel: "silent" });
    await client.start();
    closers.push(() => client.stop());
    const payloads = [...Array.from({ length: 200 }, (_, i) => Buffer.from(`m-${i}`)), Buffer.from("poison")];
    const results: string[] = [];
    const errors: RemoteError[] = [];
    for await (const result of client.job("server.echo", payloads)) {
      if (result instanceof RemoteError) errors.push(result);
      else results.push(Buffer.from(result).toString());
    }
    assert.equal(new Set(results).size, 200);
    assert.equal(results.length, 200);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.remoteCause, /no result after 3 attempts/);
    assert.equal(poisonTries, 3);
    assert.deepEqual(master.workers(), []);
    assert.ok(master.ledger.redelivered >= 20);
  });

  it("does not redeliver a slow message held by a heartbeating worker", async () => {
    const options = await masterOptions();
    const master = new Master({ ...options, redeliverAfterMs: 200 });
    await master.start();
    closers.push(() => master.stop());
    let calls = 0;
    const worker = new Worker({
      name: "w1",
      dbAddress: options.dbAddress,
      logLevel: "silent",
      functions: {
        slow: async (payload: Uint8Array) => {
          calls++;
          await new Promise((r) => setTimeout(r, 1000));
          return payload;
        },
      },
    });
    await worker.start();
    closers.push(() => worker.stop());
    const client = new Client({ serverName: "server", dbAddress: options.dbAddress, logLevel: "silent" });
    await client.start();
    closers.push(() => client.stop());
    assert.equal(Buffer.from(await client.eval("server.slow", Buffer.from("x"))).toString(), "x");
    assert.equal(calls, 1);
    assert.equal(master.ledger.redelivered, 0);
  });

  it("workers reconnect to a master restarted on the same ports, and results after the restart arrive", async (t) => {
    // Every port the same, the Dispatch one included (by default it is a wildcard port).
    const [workerDispatchAddress] = await freeEndpoints(1);
    const options = { ...(await masterOptions()), workerDispatchAddress: workerDispatchAddress! };
    let master = new Master(options);
    await master.start();
    closers.push(() => master.stop());
    const workers = ["w1", "w2"].map((name) => {
      const worker = startFixture(
        "workerProcess.ts",
        { name, dbAddress: options.dbAddress, spinUs: 100 },
        { name },
      );
      processes.push(worker);
      return worker;
    });
    await Promise.all(workers.map((w) => w.waitFor((l) => l.event === "ready")));
    const client = new Client({
      serverName: "server",
      dbAddress: options.dbAddress,
      logLevel: "silent",
      timeoutMs: 4000,
    });
    await client.start();
    closers.push(() => client.stop());

    const total = 10_000;
    const pulledAt: number[] = [];
    const feed = function* (from: number) {
      for (let i = from; i < total; i++) {
        pulledAt.push(Date.now());
        yield Buffer.from(`m-${i}`);
      }
    };
    const payloads = feed(0);
    const got = new Set<number>();
    let restartedAt = Number.POSITIVE_INFINITY;
    let rejoinMs = 0;
    let outcome = "completed";
    try {
      for await (const result of client.job("server.echo", payloads, { messages: total })) {
        got.add(
          Number(
            Buffer.from(result as Uint8Array)
              .toString()
              .slice(2),
          ),
        );
        if (got.size === 3000 && restartedAt === Number.POSITIVE_INFINITY) {
          const stopAt = Date.now();
          await master.stop();
          master = new Master(options);
          const joined = new Set<string>();
          master.on("worker.joined", (event) => joined.add(event.worker.name));
          await master.start();
          restartedAt = Date.now();
          while (joined.size < 2 && Date.now() - restartedAt < 5000)
            await new Promise((r) => setTimeout(r, 10));
          rejoinMs = Date.now() - stopAt;
          assert.deepEqual([...joined].sort(), ["w1", "w2"], "both workers came back");
        }
      }
    } catch (error) {
      outcome = String(error);
      // The stopping master told the client, which ended the job (PALM_ERR_SERVER_STOPPED); the rest of
      // the messages go to the restarted one as a new job.
      if (isPalmError(error, "PALM_ERR_SERVER_STOPPED")) {
        const rest = total - pulledAt.length;
        for await (const result of client.job("server.echo", feed(pulledAt.length), { messages: rest })) {
          got.add(
            Number(
              Buffer.from(result as Uint8Array)
                .toString()
                .slice(2),
            ),
          );
        }
        outcome += "; the rest completed on the restarted master";
      }
    }
    const afterRestart = pulledAt.map((at, i) => [at, i] as const).filter(([at]) => at > restartedAt);
    const missingAfter = afterRestart.filter(([, i]) => !got.has(i));
    const lost = pulledAt.length - got.size;
    t.diagnostic(
      `workers back ${rejoinMs} ms after the stop; ${afterRestart.length} messages sent after the restart, ${missingAfter.length} of them without a result; ${lost} of ${pulledAt.length} sent lost in all (in the old master when it stopped); job: ${outcome}`,
    );
    assert.ok(afterRestart.length > 1000, "the job went on after the restart");
    assert.equal(missingAfter.length, 0, "every message sent after the restart got its result");
    assert.equal(master.workers().filter((w) => w.state === "alive").length, 2);
  });
});
