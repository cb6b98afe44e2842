import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { msgpackCodec } from "../src/codec/index.js";
import { dispatchTags, encodeRevoke, encodeWorkHeader, readTag } from "../src/dispatch/protocol.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { type DispatchLink, DispatchRunner } from "../src/worker/dispatchRunner.js";

/** Runners made by a test: each stops waiting for a welcome (its retry timer) when the test ends. */
const made: DispatchRunner[] = [];

/** A runner whose functions are `echo` and `spin` (busy for the ms its payload says), and what it sent. */
function runner(prefetch = 128) {
  const results: string[] = [];
  const started: string[] = [];
  const r = new DispatchRunner({
    id: "w1",
    address: "tcp://127.0.0.1:1",
    name: "test",
    prefetch,
    heartbeatMs: 1000,
    codec: msgpackCodec,
    maxMessageSize: 1 << 20,
    run: (message) => {
      started.push(message.id!);
      if (message.function === "test.spin") {
        const until = performance.now() + Number(Buffer.from(message.payload).toString());
        while (performance.now() < until);
      }
      return [message];
    },
  });
  made.push(r);
  const link: DispatchLink = {
    send: (frames) => {
      if (readTag(frames[0]) === "results") {
        for (const m of msgpackCodec.decode(frames[1]!)) results.push(m.id!);
      }
      return Promise.resolve();
    },
    moveTo: () => undefined,
  };
  return { r, link, results, started };
}

const call = (fn: string, id: string, payload = ""): PalmMessage =>
  createMessage({ pipeline: "c", client: "c", function: `test.${fn}`, payload: Buffer.from(payload), id });

const work = (seq: number, messages: PalmMessage[]) => [
  dispatchTags.work,
  encodeWorkHeader({ seq, deadlines: messages.map(() => 0) }),
  msgpackCodec.encode(messages)[0]!,
];

const nextImmediate = () => new Promise((resolve) => setImmediate(resolve));

describe("DispatchRunner turns", () => {
  afterEach(() => {
    for (const r of made.splice(0)) r.abandon();
  });

  it("runs a lone message that reaches it idle and sends its result before the batch's handling returns", async () => {
    const { r, link, results } = runner();
    await r.attach(link);
    assert.equal(r.receive(work(1, [call("echo", "m1")])).kind, "work");
    assert.deepEqual(results, [], "nothing runs before the batch has been read");
    r.afterBatch();
    assert.deepEqual(results, ["m1"]);
  });

  it("after a long call run in the read loop, reads the socket before the next message starts", async () => {
    const { r, link, results, started } = runner();
    await r.attach(link);
    r.receive(work(10, [call("spin", "m10", "5"), call("echo", "m11"), call("echo", "m12")]));
    r.afterBatch();
    assert.deepEqual(started, ["m10"], "the turn ends after the long call");
    // What the socket's read loop does next, even after its own yield (one setImmediate).
    await nextImmediate();
    assert.equal(r.receive([dispatchTags.revoke, encodeRevoke({ seqs: [11] })]).kind, "control");
    r.afterBatch();
    for (let i = 0; i < 5; i++) await nextImmediate();
    assert.deepEqual(started, ["m10", "m12"]);
    assert.deepEqual(results, ["m10", "m12"]);
    assert.equal(r.counts.revoked, 1);
  });

  it("keeps a busy runner's order: new work waits for the turn already scheduled", async () => {
    // A prefetch of 2 runs one message per turn.
    const { r, link, results, started } = runner(2);
    await r.attach(link);
    r.receive(work(1, [call("echo", "a"), call("echo", "b")]));
    r.afterBatch();
    assert.deepEqual(started, ["a"]);
    r.receive(work(3, [call("echo", "c")]));
    r.afterBatch();
    assert.deepEqual(started, ["a"], "c waits behind b");
    for (let i = 0; i < 6; i++) await nextImmediate();
    assert.deepEqual(started, ["a", "b", "c"]);
    assert.deepEqual(results, ["a", "b", "c"]);
  });
});

describe("DispatchRunner join", () => {
  afterEach(() => {
    for (const r of made.splice(0)) r.abandon();
  });

  /** A link that counts the hellos sent on it and wakes the test at the `n`th. */
  function helloLink() {
    let hellos = 0;
    let wake: { n: number; resolve: () => void } | undefined;
    const link: DispatchLink = {
      send: (frames) => {
        if (readTag(frames[0]) === "hello") hellos++;
        if (wake && hellos >= wake.n) wake.resolve();
        return Promise.resolve();
      },
      moveTo: () => undefined,
    };
    const hellosReached = (n: number) => new Promise<void>((resolve) => (wake = { n, resolve }));
    return { link, hellos: () => hellos, hellosReached };
  }

  it("says hello on attach and again until the master welcomes it, then no more", async () => {
    const { r } = runner();
    const l = helloLink();
    await r.attach(l.link);
    assert.deepEqual([l.hellos(), r.join.state], [1, "greeting"]);
    await l.hellosReached(3);
    assert.equal(r.join.retries, 2);
    assert.deepEqual(r.receive([dispatchTags.welcome]), { kind: "control" });
    await r.welcomed();
    assert.equal(r.join.state, "welcomed");
    const said = l.hellos();
    // Past the next wait (1 s), on a timer of the test's own: nothing more was said.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(l.hellos(), said);
    // A master that asks who is there gets a hello from a welcomed worker.
    r.receive([dispatchTags.who]);
    assert.equal(l.hellos(), said + 1);
  });

  it("a runner stopped before its welcome rejects `welcomed()` and says no hello more", async () => {
    const { r } = runner();
    const l = helloLink();
    await r.attach(l.link);
    r.abandon();
    await assert.rejects(r.welcomed(), { code: "PALM_ERR_SERVER_STOPPED" });
    assert.equal(r.join.state, "stopped");
    r.receive([dispatchTags.who]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(l.hellos(), 1);
  });
});
