import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import { greetWaitEvents, greetWaitMachine } from "../machines/greetWait.js";

/** Runs a greet wait on a simulated clock, counting how often it gave up. */
function runWait(waitMs = 3000) {
  let gaveUp = 0;
  const clock = new SimulatedClock();
  const actor = createActor(
    greetWaitMachine.provide({
      actions: {
        gaveUp: () => {
          gaveUp++;
        },
      },
    }),
    { clock, input: { waitMs } },
  ).start();
  return { actor, clock, gaveUp: () => gaveUp, state: () => String(actor.getSnapshot().value) };
}

describe("a subscriber's wait for its publisher's greeting, on a simulated clock", () => {
  it("gives up once, after exactly its wait, when no greeting comes", () => {
    const w = runWait();
    w.clock.increment(2999);
    assert.deepEqual([w.state(), w.gaveUp()], ["waiting", 0]);
    w.clock.increment(1);
    assert.deepEqual([w.state(), w.gaveUp()], ["gaveUp", 1]);
    assert.equal(w.actor.getSnapshot().status, "done");
    w.clock.increment(30_000);
    assert.equal(w.gaveUp(), 1);
  });

  it("a greeting within the wait ends it; so does the part's stop: neither gives up later", () => {
    const met = runWait();
    met.clock.increment(2999);
    met.actor.send(greetWaitEvents.met());
    met.clock.increment(30_000);
    assert.deepEqual([met.state(), met.gaveUp()], ["met", 0]);
    const stopped = runWait();
    stopped.actor.send(greetWaitEvents.stop());
    stopped.clock.increment(30_000);
    assert.deepEqual([stopped.state(), stopped.gaveUp()], ["stopped", 0]);
  });
});
