import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Worker } from "../actors/worker.js";
import { msgpackCodec } from "../src/codec/index.js";
import { isPalmError, RemoteError } from "../src/errors.js";
import { InFlightLedger } from "../src/inFlight.js";
import { heartbeatMessage } from "../src/liveness/heartbeat.js";
import type { LivenessEvent } from "../src/liveness/livenessEvents.js";
import { PeerCount } from "../src/liveness/peerCount.js";
import { WorkerRegistry } from "../src/liveness/workerRegistry.js";
import { WorkerWatch } from "../src/liveness/workerWatch.js";
import { createLogger } from "../src/logger.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";

const INFO = { name: "w", pid: 1, host: "h", intervalMs: 500, seq: 1 };
const silent = createLogger({ name: "test", level: "silent" });

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

/** A watch over a ledger, on simulated time, recording what it redelivers, answers and holds back. */
function watchOnSimulatedTime(options: ConstructorParameters<typeof WorkerWatch>[1] = {}) {
  const clock = { now: 1_000 };
  const ledger = new InFlightLedger("t:");
  const record = {
    redelivered: [] as PalmMessage[],
    answered: [] as PalmMessage[],
    held: [] as boolean[],
    events: [] as LivenessEvent[],
    listening: true,
  };
  const watch = new WorkerWatch(
    {
      ledger,
      logger: silent,
      now: () => clock.now,
      listening: () => record.listening,
      redeliver: (messages) => record.redelivered.push(...messages),
      answer: (messages) => record.answered.push(...messages),
      holdBack: (high) => record.held.push(high),
      notify: (event) => record.events.push(event),
    },
    options,
  );
  const send = (id: string) => {
    const message = createMessage({ id, function: "server.f" });
    ledger.track(message, clock.now);
    ledger.sent(message, clock.now);
    return message;
  };
  /** Advances the clock in sweep-sized steps, sweeping at each, as the timer would. */
  const advance = (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      clock.now += 100;
      watch.tick();
    }
  };
  return { clock, ledger, record, watch, send, advance };
}

describe("worker liveness, on simulated time", () => {
  it("declares a silent worker lost after workerTimeoutMs, and back when it heartbeats again", () => {
    const registry = new WorkerRegistry(2000);
    assert.equal(registry.heard("a", INFO, 0)?.type, "joined");
    assert.equal(registry.heard("a", INFO, 500), undefined);
    assert.deepEqual(registry.sweep(2500), []);
    const [lost] = registry.sweep(2501);
    assert.equal(lost?.type, "lost");
    assert.equal(lost?.worker.lastSeen, 500);
    assert.equal(registry.alive, 0);
    const back = registry.heard("a", INFO, 3000);
    assert.deepEqual([back?.type, back?.type === "joined" && back.rejoined], ["joined", true]);
    assert.equal(registry.list()[0]?.rejoins, 1);
  });

  it("holds nobody's silence against them while the master cannot listen", () => {
    const registry = new WorkerRegistry(2000);
    registry.heard("a", INFO, 0);
    assert.deepEqual(registry.sweep(5000, false), []);
    // Listening again: the silence counts from the last moment the master could not listen.
    assert.deepEqual(registry.sweep(6000), []);
    assert.equal(registry.sweep(7001)[0]?.type, "lost");
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

  it("redelivers what a lost worker may hold, then answers with an error after maxAttempts", () => {
    const { record, watch, send, advance, ledger, clock } = watchOnSimulatedTime({ maxAttempts: 2 });
    watch.heard(heartbeatMessage("w1", INFO));
    send("m1");
    advance(2100);
    assert.deepEqual(
      record.events.map((e) => e.type),
      ["worker.joined", "worker.lost", "messages.redelivered"],
    );
    assert.deepEqual(
      record.redelivered.map((m) => m.id),
      ["m1"],
    );
    // The redelivery goes out (attempt 2) and its worker is lost too: no third attempt, an error result.
    ledger.sent(record.redelivered[0]!, clock.now);
    watch.heard(heartbeatMessage("w2", INFO));
    advance(2100);
    assert.equal(record.answered.length, 1);
    assert.match(record.answered[0]!.error ?? "", /no result after 2 attempts/);
    assert.equal(ledger.size, 0);
    // A late result for it is a duplicate: the client had its answer.
    assert.equal(ledger.settle(createMessage({ id: "m1" })), false);
  });

  it("redelivers on timeout only while a peer that does not heartbeat is connected", () => {
    const { record, watch, send, advance } = watchOnSimulatedTime({ redeliverAfterMs: 1000 });
    watch.heard(heartbeatMessage("w1", INFO));
    watch.peerEvent("accept");
    watch.peerEvent("handshake");
    send("slow");
    // One heartbeating worker, one connection: a slow message is left alone.
    for (let i = 0; i < 30; i++) {
      watch.heard(heartbeatMessage("w1", INFO));
      advance(100);
    }
    assert.equal(record.redelivered.length, 0);
    // A second connection that never heartbeats (a pylm worker): now a timeout redelivers.
    watch.peerEvent("accept");
    watch.peerEvent("handshake");
    watch.heard(heartbeatMessage("w1", INFO));
    advance(100);
    assert.deepEqual(
      record.redelivered.map((m) => m.id),
      ["slow"],
    );
  });

  it("holds the inbound part back at maxInFlight and lets it go below 90%", () => {
    const { record, watch, send, ledger } = watchOnSimulatedTime({ maxInFlight: 20 });
    const sent = Array.from({ length: 20 }, (_, i) => send(`m${i}`));
    watch.taken();
    assert.deepEqual(record.held, [true]);
    ledger.settle(sent[0]!);
    watch.settled();
    assert.deepEqual(record.held, [true]);
    ledger.settle(sent[1]!);
    watch.settled();
    assert.deepEqual(record.held, [true, false]);
  });

  it("does not resend a redelivered message whose first result arrived meanwhile", () => {
    const ledger = new InFlightLedger("t:");
    const message = createMessage({ id: "m" });
    ledger.track(message, 0);
    assert.equal(ledger.sent(message, 1), true);
    const [entry] = [...ledger.sentBefore(2)];
    ledger.requeue(entry!, 2);
    assert.equal(ledger.settle(message), true);
    assert.equal(ledger.sent(message, 3), false);
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
    await new Promise((r) => setTimeout(r, 1200));
    const [info] = master.workers();
    assert.equal(info?.id, worker.id);
    assert.equal(info?.state, "alive");
    assert.ok((info?.heartbeats ?? 0) >= 3, `${info?.heartbeats} heartbeats in 1.2 s`);
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
    const options = await masterOptions();
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
