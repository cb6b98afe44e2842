import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import { workerJoinEvents, workerJoinMachine } from "../machines/workerJoin.js";
import { TRY_WAIT_MS } from "../src/worker/discovery.js";

/** Runs a worker's join on a simulated clock, counting the hellos it says and how it ended. */
function runJoin() {
  const said = { hellos: 0, welcomed: 0, abandoned: 0 };
  const machine = workerJoinMachine.provide({
    actions: {
      sayHello: () => {
        said.hellos++;
      },
      welcomed: () => {
        said.welcomed++;
      },
      abandoned: () => {
        said.abandoned++;
      },
    },
  });
  const clock = new SimulatedClock();
  const actor = createActor(machine, { clock, input: { waitsMs: TRY_WAIT_MS } }).start();
  const states: string[] = [String(actor.getSnapshot().value)];
  actor.subscribe((snapshot) => {
    const state = String(snapshot.value);
    if (states[states.length - 1] !== state) states.push(state);
  });
  return { actor, clock, said, states };
}

describe("a worker's join, on a simulated clock", () => {
  it("says hello again after each wait, growing then steady, until the master welcomes it", () => {
    const j = runJoin();
    j.clock.increment(60_000);
    assert.equal(j.said.hellos, 0, "no socket yet: nothing said");
    j.actor.send(workerJoinEvents.attached());
    // The waits: 250, 500, 1000, 2000, 4000, then 4000 again.
    const expected = [250, 500, 1000, 2000, 4000, 4000, 4000];
    for (const [k, wait] of expected.entries()) {
      j.clock.increment(wait - 1);
      assert.equal(j.said.hellos, k, `no hello before wait ${k} is over`);
      j.clock.increment(1);
      assert.equal(j.said.hellos, k + 1, `a hello at the end of wait ${k}`);
    }
    j.actor.send(workerJoinEvents.welcome());
    j.clock.increment(60_000);
    assert.equal(j.said.hellos, expected.length, "welcomed: no more hellos");
    assert.deepEqual(
      { ...j.said, retries: j.actor.getSnapshot().context.retries },
      {
        hellos: 7,
        welcomed: 1,
        abandoned: 0,
        retries: 7,
      },
    );
    assert.deepEqual(j.states, ["detached", "greeting", "welcomed"]);
    j.actor.stop();
  });

  it("waits without a socket and goes on where it was once one attaches again; answers `who` whenever", () => {
    const j = runJoin();
    j.actor.send(workerJoinEvents.attached());
    j.clock.increment(250);
    assert.equal(j.said.hellos, 1);
    j.actor.send(workerJoinEvents.detached());
    j.clock.increment(60_000);
    assert.equal(j.said.hellos, 1, "detached: no hello");
    j.actor.send(workerJoinEvents.attached());
    j.clock.increment(499);
    assert.equal(j.said.hellos, 1);
    j.clock.increment(1);
    assert.equal(j.said.hellos, 2, "the next wait is the second one");
    j.actor.send(workerJoinEvents.welcome());
    // A master that restarted asks who is there: the welcomed worker answers, once per question.
    j.actor.send(workerJoinEvents.who());
    j.actor.send(workerJoinEvents.who());
    assert.equal(j.said.hellos, 4);
    j.actor.send(workerJoinEvents.stop());
    assert.equal(j.actor.getSnapshot().status, "done");
    assert.deepEqual(j.said, { hellos: 4, welcomed: 1, abandoned: 0 });
    assert.deepEqual(j.states, ["detached", "greeting", "detached", "greeting", "welcomed", "stopped"]);
  });

  it("a worker stopped before its welcome abandons the join and says nothing more", () => {
    const j = runJoin();
    j.actor.send(workerJoinEvents.attached());
    j.clock.increment(250);
    j.clock.increment(500);
    assert.equal(j.said.hellos, 2);
    j.actor.send(workerJoinEvents.stop());
    j.clock.increment(60_000);
    assert.deepEqual(j.said, { hellos: 2, welcomed: 0, abandoned: 1 });
    assert.deepEqual(j.states, ["detached", "greeting", "stopped"]);
    // A welcome that comes late is not taken.
    j.actor.send(workerJoinEvents.welcome());
    assert.equal(j.said.welcomed, 0);
  });
});
