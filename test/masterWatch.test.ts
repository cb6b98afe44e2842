import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActor, fromPromise, SimulatedClock } from "xstate";
import { masterWatchEvents, masterWatchMachine } from "../machines/masterWatch.js";

const GRACE = 2000;

/** Runs a master watch on a simulated clock; the test answers its cache lookups one by one. */
function runWatch(current = "tcp://127.0.0.1:1000") {
  const asked: Array<{ resolve: (address: string) => void; reject: (error: Error) => void }> = [];
  const moves: string[] = [];
  const failures: unknown[] = [];
  const machine = masterWatchMachine.provide({
    actors: {
      lookup: fromPromise(() => new Promise<string>((resolve, reject) => asked.push({ resolve, reject }))),
    },
    guards: { moved: (_, { address }) => address !== current },
    actions: {
      moveTo: (_, { address }) => {
        moves.push(address);
        current = address;
      },
      lookupFailed: (_, { error }) => failures.push(error),
    },
  });
  const clock = new SimulatedClock();
  const actor = createActor(machine, { clock, input: { graceMs: GRACE } }).start();
  const states: string[] = [String(actor.getSnapshot().value)];
  actor.subscribe((snapshot) => {
    const state = String(snapshot.value);
    if (states[states.length - 1] !== state) states.push(state);
  });
  // A settled lookup's answer reaches the actor after the promise's reactions have run.
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { actor, clock, asked, moves, failures, states, settle };
}

describe("a worker's master watch, on a simulated clock", () => {
  it("asks the master's cache once the connection has been down for its grace, and follows a move", async () => {
    const w = runWatch();
    w.actor.send(masterWatchEvents.disconnect());
    w.clock.increment(GRACE - 1);
    assert.equal(w.asked.length, 0, "no question before the grace is over");
    w.clock.increment(1);
    assert.equal(w.asked.length, 1);
    // Same address: the master is not up yet; ask again after another grace.
    w.asked[0]!.resolve("tcp://127.0.0.1:1000");
    await w.settle();
    assert.deepEqual(w.moves, []);
    w.clock.increment(GRACE);
    assert.equal(w.asked.length, 2);
    w.asked[1]!.resolve("tcp://127.0.0.1:2000");
    await w.settle();
    assert.deepEqual(w.moves, ["tcp://127.0.0.1:2000"]);
    w.actor.send(masterWatchEvents.handshake());
    assert.deepEqual(w.states, ["connected", "down", "looking", "down", "looking", "down", "connected"]);
    const { lookups, moves } = w.actor.getSnapshot().context;
    assert.deepEqual({ lookups, moves }, { lookups: 2, moves: 1 });
    w.clock.increment(10 * GRACE);
    assert.equal(w.asked.length, 2, "connected again: no more questions");
    w.actor.stop();
  });

  it("a connection back within the grace asks nothing; one back during a question drops its answer", async () => {
    const w = runWatch();
    w.actor.send(masterWatchEvents.disconnect());
    w.clock.increment(GRACE / 2);
    w.actor.send(masterWatchEvents.handshake());
    w.clock.increment(GRACE * 2);
    assert.equal(w.asked.length, 0);
    w.actor.send(masterWatchEvents.disconnect());
    w.clock.increment(GRACE);
    assert.equal(w.asked.length, 1);
    w.actor.send(masterWatchEvents.handshake());
    w.asked[0]!.resolve("tcp://127.0.0.1:3000");
    await w.settle();
    assert.deepEqual(w.moves, [], "the late answer is not followed");
    assert.deepEqual(w.states, ["connected", "down", "connected", "down", "looking", "connected"]);
    w.actor.stop();
  });

  it("a cache that fails is asked again after a grace, and a stopped watch asks nothing more", async () => {
    const w = runWatch();
    w.actor.send(masterWatchEvents.disconnect());
    w.clock.increment(GRACE);
    w.asked[0]!.reject(new Error("cache stopped"));
    await w.settle();
    assert.equal(w.failures.length, 1);
    assert.equal(String(w.actor.getSnapshot().value), "down");
    w.clock.increment(GRACE);
    assert.equal(w.asked.length, 2);
    w.actor.send(masterWatchEvents.stop());
    assert.equal(w.actor.getSnapshot().status, "done");
    w.clock.increment(GRACE * 3);
    assert.equal(w.asked.length, 2);
    assert.deepEqual(w.states, ["connected", "down", "looking", "down", "looking", "stopped"]);
  });
});
