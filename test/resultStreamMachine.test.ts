import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import {
  type ResultStreamEmitted,
  resultStreamEvents,
  resultStreamMachine,
} from "../machines/resultStream.js";

function start(limit = 10, slowConsumerMs = 1000) {
  const clock = new SimulatedClock();
  const actor = createActor(resultStreamMachine, {
    clock,
    input: { client: "c", limit, slowConsumerMs, retryMs: 5 },
  });
  const emitted: ResultStreamEmitted[] = [];
  actor.on("*", (event) => emitted.push(event));
  actor.start();
  const count = (type: ResultStreamEmitted["type"]) => emitted.filter((e) => e.type === type).length;
  return { actor, clock, emitted, count };
}

const frames = (messages: number) => ({ frames: [Buffer.from("x")], messages });

describe("resultStream machine", () => {
  it("keeps what found the stream full, retries it, and flows again once all went", () => {
    const { actor, clock, count } = start();
    actor.send(resultStreamEvents.full(frames(3)));
    actor.send(resultStreamEvents.full(frames(2)));
    assert.equal(actor.getSnapshot().context.heldMessages, 5);
    clock.increment(5);
    clock.increment(5);
    assert.equal(count("retry"), 2);
    actor.send(resultStreamEvents.sent(1, 3));
    assert.ok(actor.getSnapshot().matches("full"));
    assert.equal(actor.getSnapshot().context.heldMessages, 2);
    actor.send(resultStreamEvents.sent(1, 2));
    assert.ok(actor.getSnapshot().matches("flowing"));
    assert.equal(actor.getSnapshot().context.held.length, 0);
  });

  it("progress restarts the slowConsumerMs deadline; none for that long cuts the client off once", () => {
    const { actor, clock, emitted, count } = start(100, 1000);
    actor.send(resultStreamEvents.full(frames(4)));
    actor.send(resultStreamEvents.full(frames(4)));
    clock.increment(900);
    actor.send(resultStreamEvents.sent(1, 4));
    clock.increment(900);
    assert.ok(actor.getSnapshot().matches("full"), "progress kept it");
    clock.increment(100);
    assert.ok(actor.getSnapshot().matches("cutOff"));
    assert.equal(count("cutOff"), 1);
    const cut = emitted.find((e) => e.type === "cutOff");
    assert.match(cut?.type === "cutOff" ? cut.reason : "", /slowConsumerMs.*4 results dropped/);
    assert.equal(actor.getSnapshot().context.heldMessages, 0, "what waited is dropped");
    clock.increment(100);
    clock.increment(100);
    assert.equal(count("tell"), 2, "the notice is tried again every 100 ms");
    actor.send(resultStreamEvents.told());
    assert.equal(actor.getSnapshot().status, "done");
    assert.equal(count("cutOff"), 1);
  });

  it("more results waiting and retries that move nothing do not restart the deadline", () => {
    const { actor, clock, count } = start(10_000, 1000);
    actor.send(resultStreamEvents.full(frames(1)));
    // Another client's job keeps the part busy: results for this stream keep arriving, nothing goes out.
    for (let elapsed = 0; elapsed < 990; elapsed += 10) {
      actor.send(resultStreamEvents.full(frames(1)));
      actor.send(resultStreamEvents.sent(0, 0));
      clock.increment(10);
    }
    assert.ok(actor.getSnapshot().matches("full"));
    clock.increment(10);
    assert.ok(actor.getSnapshot().matches("cutOff"), "cut off slowConsumerMs after the last progress");
    assert.equal(count("cutOff"), 1);
  });

  it("cuts off a client that lets more than its window wait", () => {
    const { actor, emitted } = start(10);
    actor.send(resultStreamEvents.full(frames(6)));
    actor.send(resultStreamEvents.full(frames(6)));
    assert.ok(actor.getSnapshot().matches("cutOff"));
    const cut = emitted.find((e) => e.type === "cutOff");
    assert.match(cut?.type === "cutOff" ? cut.reason : "", /window of 10 results/);
  });

  it("starts full with what an earlier instance kept, and retries it", () => {
    const clock = new SimulatedClock();
    const held = [frames(3), frames(2)];
    const actor = createActor(resultStreamMachine, {
      clock,
      input: { client: "c", limit: 10, slowConsumerMs: 1000, retryMs: 5, held },
    });
    let retries = 0;
    actor.on("retry", () => retries++);
    actor.start();
    assert.ok(actor.getSnapshot().matches("full"));
    assert.equal(actor.getSnapshot().context.heldMessages, 5);
    clock.increment(5);
    assert.equal(retries, 1);
    actor.send(resultStreamEvents.sent(2, 5));
    assert.ok(actor.getSnapshot().matches("flowing"));
  });

  it("forgets the stream when the client says bye", () => {
    const { actor } = start();
    actor.send(resultStreamEvents.full(frames(1)));
    actor.send(resultStreamEvents.close());
    assert.equal(actor.getSnapshot().status, "done");
    assert.equal(actor.getSnapshot().context.heldMessages, 0);
  });
});
