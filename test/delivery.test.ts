import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { remoteCode } from "../src/errors.js";
import { deliveryOnSimulatedTime } from "./support/deliveryHarness.js";

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe("the delivery machine, with events only on a simulated clock", () => {
  it("hands a worker at most its prefetch and one more message per result (credit accounting)", () => {
    const d = deliveryOnSimulatedTime();
    d.hello("w1", 2);
    d.take(...ids("m", 5));
    assert.deepEqual(d.work(), { w1: ["m1", "m2"] });
    assert.deepEqual(d.ledger.stats().workers.w1, { held: 2, credit: 0, state: "alive" });
    d.results("w1", "m1");
    assert.deepEqual(d.work(), { w1: ["m1", "m2", "m3"] });
    d.results("w1", "m2", "m3");
    assert.deepEqual(d.work(), { w1: ["m1", "m2", "m3", "m4", "m5"] });
    assert.deepEqual(d.ledger.stats().workers.w1, { held: 2, credit: 0, state: "alive" });
    assert.equal(d.ledger.stats().queued, 0);
    // Each frame numbers its messages from its first one's dispatch sequence number.
    assert.deepEqual(
      d.orders("work").map((o) => (o.type === "work" ? o.seq : 0)),
      [1, 3, 4],
    );
    d.stop();
  });

  it("welcomes each hello before any work, and counts a repeated hello as one join", () => {
    const d = deliveryOnSimulatedTime();
    d.take(...ids("m", 2));
    d.hello("w1", 4);
    d.hello("w1", 4);
    const orders = d.orders().map((o) => o.type);
    assert.deepEqual(orders, ["welcome", "work", "welcome"]);
    assert.deepEqual(d.work(), { w1: ["m1", "m2"] });
    assert.equal(d.notices().filter((e) => e.type === "worker.joined").length, 1);
    d.stop();
  });

  it("shares a trickle of messages, each answered before the next, between workers of equal credit", () => {
    const d = deliveryOnSimulatedTime();
    d.hello("w1", 4);
    d.hello("w2", 4);
    for (const id of ids("m", 6)) {
      d.take(id);
      const [worker] = Object.entries(d.work()).find(([, held]) => held.includes(id))!;
      d.results(worker, id);
    }
    assert.equal(d.work().w1?.length, 3);
    assert.equal(d.work().w2?.length, 3);
    d.stop();
  });

  it("holds a worker to the credit it asks for, never above its hello's prefetch, until its next hello", () => {
    const d = deliveryOnSimulatedTime();
    d.hello("slow", 8);
    d.credit("slow", 2);
    d.take(...ids("m", 10));
    assert.deepEqual(d.work(), { slow: ["m1", "m2"] });
    d.credit("slow", 100);
    assert.deepEqual(d.ledger.stats().workers.slow, { held: 8, credit: 0, state: "alive" });
    d.results("slow", "m1", "m2", "m3", "m4", "m5", "m6");
    assert.deepEqual(d.ledger.stats().workers.slow, { held: 4, credit: 4, state: "alive" });
    d.credit("slow", 1);
    d.take(...ids("n", 4));
    assert.equal(d.work().slow?.length, 10);
    assert.equal(d.ledger.stats().queued, 4);
    // A hello resets it to the prefetch.
    d.hello("slow", 8);
    assert.equal(d.work().slow?.length, 14);
    d.stop();
  });

  it("gives work to the worker with most credit, so a slow worker gets less", () => {
    const d = deliveryOnSimulatedTime();
    d.hello("fast", 4);
    d.hello("slow", 4);
    d.take(...ids("m", 8));
    d.results("fast", "m1", "m3", "m5", "m7");
    d.take(...ids("n", 4));
    assert.equal(d.work().fast?.length, 8);
    assert.equal(d.work().slow?.length, 4);
    d.stop();
  });

  it("declares a silent worker lost after workerTimeoutMs and redelivers exactly what it held", () => {
    const d = deliveryOnSimulatedTime({ workerTimeoutMs: 2000 });
    d.hello("w1", 2);
    d.hello("w2", 2);
    d.beat("w1");
    d.take(...ids("m", 4));
    const held = d.work();
    assert.equal(held.w1?.length, 2);
    assert.equal(held.w2?.length, 2);
    // w2 beats and answers; w1 says nothing.
    for (let t = 0; t < 2400; t += 200) {
      d.advance(200);
      d.beat("w2");
    }
    d.results("w2", ...held.w2!);
    const lost = d.notices().filter((e) => e.type === "worker.lost");
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.type === "worker.lost" && lost[0]!.worker.id, "w1");
    // Lost holding two, it may have been killed by either: each runs alone, one after the other.
    assert.deepEqual(d.work().w2, [...held.w2!, held.w1![0]]);
    d.results("w2", held.w1![0]!);
    assert.deepEqual(d.work().w2, [...held.w2!, ...held.w1!]);
    assert.equal(d.ledger.redelivered, 2);
    const redelivered = d.notices().find((e) => e.type === "messages.redelivered");
    assert.deepEqual(redelivered, {
      type: "messages.redelivered",
      reason: "worker.lost",
      count: 2,
      failed: 0,
    });
    assert.equal(d.ledger.workers().find((w) => w.id === "w1")?.state, "lost");
    d.stop();
  });

  it("gives a worker three times workerTimeoutMs for its first heartbeat (its heartbeat thread starts)", () => {
    const d = deliveryOnSimulatedTime({ workerTimeoutMs: 1000 });
    d.hello("w1", 1);
    d.advance(2800);
    assert.equal(d.ledger.workers()[0]?.state, "alive");
    d.advance(500);
    assert.equal(d.ledger.workers()[0]?.state, "lost");
    d.stop();
  });

  it("counts results as signs of life: a worker that answers but does not beat stays alive", () => {
    const d = deliveryOnSimulatedTime({ workerTimeoutMs: 1000 });
    d.hello("w1", 1);
    d.take(...ids("m", 20));
    for (let k = 1; k <= 20; k++) {
      d.advance(200);
      d.results("w1", `m${k}`);
    }
    assert.equal(d.notices().filter((e) => e.type === "worker.lost").length, 0);
    assert.equal(d.published().length, 20);
    d.stop();
  });

  it("judges nobody after a late sweep (the master's own loop was busy)", () => {
    const d = deliveryOnSimulatedTime({ workerTimeoutMs: 1000 });
    d.hello("w1", 1);
    d.clock.increment(5000);
    assert.equal(d.notices().filter((e) => e.type === "worker.lost").length, 0);
    d.beat("w1");
    d.advance(500);
    assert.equal(d.notices().filter((e) => e.type === "worker.lost").length, 0);
    d.advance(1200);
    assert.equal(d.notices().filter((e) => e.type === "worker.lost").length, 1);
    d.stop();
  });

  it("answers a call past its deadline with PALM_ERR_TIMEOUT at once; credit returns only with the late result", () => {
    const d = deliveryOnSimulatedTime({ callTimeoutMs: 1000 });
    d.hello("w1", 1);
    d.take("m1", "m2");
    for (let t = 0; t < 1300; t += 200) {
      d.advance(200);
      d.beat("w1");
    }
    const [answer, ...rest] = d.published();
    assert.equal(answer?.id, "m1");
    assert.equal(remoteCode(answer!.error!), "PALM_ERR_TIMEOUT");
    // m2 waited for a worker as long: it is answered too.
    assert.deepEqual(
      rest.map((m) => [m.id, remoteCode(m.error!)]),
      [["m2", "PALM_ERR_TIMEOUT"]],
    );
    assert.deepEqual(
      d.notices().filter((e) => e.type === "calls.timedOut"),
      [{ type: "calls.timedOut", count: 2 }],
    );
    assert.equal(d.ledger.size, 0);
    assert.equal(d.ledger.deadlines, 2);
    // The worker still runs m1: no credit until it answers; its late result is a duplicate.
    assert.deepEqual(d.ledger.stats().workers.w1, { held: 1, credit: 0, state: "alive" });
    d.results("w1", "m1");
    assert.equal(d.published().length, 2);
    assert.equal(d.ledger.duplicates, 1);
    assert.deepEqual(d.ledger.stats().workers.w1, { held: 0, credit: 1, state: "alive" });
    d.stop();
  });

  it("answers with PALM_ERR_TIMEOUT a result that comes after the deadline but before the sweep", () => {
    const d = deliveryOnSimulatedTime({ callTimeoutMs: 1000 });
    d.hello("w1", 1);
    d.take("m1");
    d.advance(950);
    d.clock.set(d.clock.now() + 60);
    d.results("w1", "m1");
    assert.equal(remoteCode(d.published()[0]!.error!), "PALM_ERR_TIMEOUT");
    assert.deepEqual(d.ledger.stats().workers.w1, { held: 0, credit: 1, state: "alive" });
    d.stop();
  });

  it("applies a worker's per-function deadline instead of callTimeoutMs", () => {
    const d = deliveryOnSimulatedTime({ callTimeoutMs: 60_000 });
    d.hello("w1", 2, { timeouts: { f: 500 } });
    d.take("m1");
    assert.deepEqual(d.orders("work")[0], { type: "work", worker: "w1", seq: 1, deadlines: [500] });
    for (let t = 0; t < 800; t += 200) {
      d.advance(200);
      d.beat("w1");
    }
    assert.equal(remoteCode(d.published()[0]!.error!), "PALM_ERR_TIMEOUT");
    d.stop();
  });

  it("never lets a forged id touch another worker's messages", () => {
    const d = deliveryOnSimulatedTime({ workerTimeoutMs: 1000 });
    d.hello("w1", 2);
    d.take("m1", "m2");
    // Beats and a goodbye from ids never announced: asked who they are, nothing else.
    d.beat("ghost");
    d.bye("ghost");
    assert.deepEqual(d.orders("who"), [{ type: "who", worker: "ghost" }]);
    // A result for w1's message from an unknown worker is passed on once; w1's credit stays taken.
    d.results("ghost", "m1");
    assert.deepEqual(
      d.published().map((m) => m.id),
      ["m1"],
    );
    assert.deepEqual(d.ledger.stats().workers.w1, { held: 2, credit: 0, state: "alive" });
    for (let t = 0; t < 800; t += 200) {
      d.advance(200);
      d.beat("w1");
    }
    d.results("w1", "m1", "m2");
    assert.deepEqual(
      d.published().map((m) => m.id),
      ["m1", "m2"],
    );
    assert.equal(d.ledger.duplicates, 1);
    assert.equal(d.ledger.redelivered, 0);
    assert.equal(d.notices().filter((e) => e.type !== "worker.joined").length, 0);
    d.stop();
  });

  it("passes a result on once: a second copy is dropped as a duplicate", () => {
    const d = deliveryOnSimulatedTime();
    d.hello("w1", 4);
    d.take("m1");
    d.results("w1", "m1");
    d.results("w1", "m1");
    d.results(undefined, "m1");
    assert.equal(d.published().length, 1);
    assert.equal(d.ledger.duplicates, 2);
    d.stop();
  });

  it("hands a departing worker's messages to others at once; an idle worker leaving costs nothing", () => {
    const d = deliveryOnSimulatedTime();
    d.hello("idle", 2);
    d.hello("w1", 2);
    d.take("m1", "m2");
    const first = d.work();
    d.results(Object.keys(first)[0], ...Object.values(first)[0]!);
    d.hello("w2", 4);
    d.take("m3", "m4");
    const holder = Object.entries(d.work()).find(([, held]) => held.includes("m3"))![0];
    const byeCount = d.notices().length;
    d.bye(holder);
    const moved = d.notices().slice(byeCount);
    assert.deepEqual(moved, [{ type: "messages.redelivered", reason: "worker.left", count: 2, failed: 0 }]);
    const others = Object.entries(d.work()).filter(([w]) => w !== holder);
    assert.ok(others.some(([, held]) => held.includes("m3") && held.includes("m4")));
    // Everybody else leaves idle: nothing is redelivered.
    const before = d.ledger.redelivered;
    for (const [w] of others) if (!d.ledger.stats().workers[w]?.held) d.bye(w);
    assert.equal(d.ledger.redelivered, before);
    d.stop();
  });

  it("takes the messages a stuck worker has not started back (revoke) and gives it nothing new until it is free", () => {
    const d = deliveryOnSimulatedTime({ stuckAfterMs: 1000 });
    d.hello("w1", 4);
    d.take("m1", "m2", "m3", "m4");
    assert.deepEqual(d.work(), { w1: ["m1", "m2", "m3", "m4"] });
    d.hello("w2", 4);
    d.beat("w1", { seq: 1, ms: 400 });
    assert.deepEqual(d.orders("revoke"), []);
    d.beat("w1", { seq: 1, ms: 1100 });
    assert.deepEqual(d.orders("revoke"), [{ type: "revoke", worker: "w1", seqs: [2, 3, 4] }]);
    assert.deepEqual(d.work().w2, ["m2", "m3", "m4"]);
    assert.deepEqual(d.ledger.stats().workers.w1, { held: 1, credit: 0, state: "alive" });
    d.take("m5");
    assert.deepEqual(d.work().w2, ["m2", "m3", "m4", "m5"]);
    // Free again, it answers the long call and gets credit back.
    d.beat("w1");
    d.results("w1", "m1");
    d.take("m6");
    assert.deepEqual(d.work().w1, ["m1", "m2", "m3", "m4", "m6"]);
    assert.equal(d.ledger.revoked, 3);
    // A revoked message does not count as an attempt.
    d.stop();
  });

  it("fails a message after maxAttempts losses with an error result", () => {
    const d = deliveryOnSimulatedTime({ maxAttempts: 2, workerTimeoutMs: 500 });
    d.take("m1");
    for (const w of ["w1", "w2"]) {
      d.hello(w, 1);
      d.beat(w);
      d.advance(800);
    }
    const [answer] = d.published();
    assert.match(answer!.error!, /no result after 2 attempts/);
    assert.equal(d.ledger.failed, 1);
    assert.equal(d.ledger.size, 0);
    d.stop();
  });

  it("serves pylm workers over PUSH within their capacity, redelivering after redeliverAfterMs or a disconnect", () => {
    const d = deliveryOnSimulatedTime({ pushPrefetch: 2, redeliverAfterMs: 1000, noWorkerTimeoutMs: 60_000 });
    d.take(...ids("m", 5));
    assert.deepEqual(d.pushed(), []);
    d.peers(2);
    assert.deepEqual(d.pushed(), ["m1", "m2", "m3", "m4"]);
    d.results(undefined, "m1");
    assert.deepEqual(d.pushed(), ["m1", "m2", "m3", "m4", "m5"]);
    d.advance(1300);
    assert.deepEqual(d.pushed().slice(5), ["m2", "m3", "m4", "m5"]);
    d.peers(1, true);
    d.advance(300);
    assert.equal(
      d.notices().filter((e) => e.type === "messages.redelivered" && e.reason === "peer.disconnected").length,
      1,
    );
    d.stop();
  });

  it("prefers palm workers with credit to the PUSH pool", () => {
    const d = deliveryOnSimulatedTime({ pushPrefetch: 10 });
    d.peers(1);
    d.hello("w1", 2);
    d.take("m1", "m2", "m3");
    assert.deepEqual(d.work(), { w1: ["m1", "m2"] });
    assert.deepEqual(d.pushed(), ["m3"]);
    d.stop();
  });

  it("answers calls that find no worker at all for noWorkerTimeoutMs with PALM_ERR_NO_WORKERS", () => {
    const d = deliveryOnSimulatedTime({ noWorkerTimeoutMs: 2000 });
    d.take("m1");
    d.advance(1500);
    assert.equal(d.published().length, 0);
    d.advance(1000);
    assert.equal(remoteCode(d.published()[0]!.error!), "PALM_ERR_NO_WORKERS");
    d.stop();
  });

  it("holds the intake back at maxInFlight and lets it go at 90%", () => {
    const d = deliveryOnSimulatedTime({ maxInFlight: 20 });
    d.hello("w1", 100);
    d.take(...ids("m", 20));
    assert.deepEqual(d.holds(), [true]);
    d.results("w1", "m1");
    assert.deepEqual(d.holds(), [true]);
    d.results("w1", "m2");
    assert.deepEqual(d.holds(), [true, false]);
    d.stop();
  });

  it("keeps its ledger across a restart of the actor, and its timers run again", () => {
    const d = deliveryOnSimulatedTime({ workerTimeoutMs: 1000 });
    d.hello("w1", 2);
    d.hello("w2", 4);
    d.beat("w1");
    d.take("m1", "m2", "m3");
    d.restart();
    assert.equal(d.ledger.size, 3);
    // The router hands the actor what it had not acknowledged again: nothing is taken twice.
    d.take("m1");
    assert.equal(d.ledger.size, 3);
    for (let t = 0; t < 1400; t += 200) {
      d.advance(200);
      d.beat("w2");
    }
    assert.equal(d.notices().filter((e) => e.type === "worker.lost").length, 1);
    // w1's messages run alone on w2, one after the other.
    for (let k = 0; k < 3 && d.published().length < 3; k++) d.results("w2", ...(d.work().w2 ?? []));
    assert.equal(d.published().length, 3);
    assert.equal(d.ledger.size, 0);
    d.stop();
  });
});
