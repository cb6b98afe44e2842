import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import { earliestDeadlineEvents, earliestDeadlineMachine } from "../machines/earliestDeadline.js";

/**
 * An owner of deadlines as an HTTP gateway keeps them (in order, answered ones removed) driving one
 * deadline timer on a simulated clock: what expired, and when.
 */
function runDeadlines() {
  const clock = new SimulatedClock();
  const due = new Map<string, number>();
  const expired: Array<[string, number]> = [];
  let armed = false;
  const actor = createActor(
    earliestDeadlineMachine.provide({
      actions: {
        expire: () => {
          armed = false;
          const now = clock.now();
          for (const [id, at] of due) {
            if (at > now) {
              armed = true;
              actor.send(earliestDeadlineEvents.arm(at - now));
              return;
            }
            due.delete(id);
            expired.push([id, now]);
          }
        },
      },
    }),
    { clock },
  ).start();
  const states: string[] = [String(actor.getSnapshot().value)];
  actor.subscribe((snapshot) => {
    const state = String(snapshot.value);
    if (states[states.length - 1] !== state) states.push(state);
  });
  const add = (id: string, inMs: number) => {
    due.set(id, clock.now() + inMs);
    if (!armed) {
      armed = true;
      actor.send(earliestDeadlineEvents.arm(inMs));
    }
  };
  return { actor, clock, due, expired, states, add };
}

describe("one timer for the earliest of many deadlines, on a simulated clock", () => {
  it("expires each deadline when it comes, skipping those met early, and rests when none is left", () => {
    const d = runDeadlines();
    d.add("a", 1000);
    d.clock.increment(100);
    d.add("b", 1000);
    d.clock.increment(100);
    d.add("c", 1000);
    d.due.delete("b"); // answered in time
    d.clock.increment(799);
    assert.deepEqual(d.expired, []);
    d.clock.increment(1);
    assert.deepEqual(d.expired, [["a", 1000]]);
    // b was answered: the timer was armed again for c, not b.
    d.clock.increment(199);
    assert.deepEqual(d.expired, [["a", 1000]]);
    d.clock.increment(1);
    assert.deepEqual(d.expired, [
      ["a", 1000],
      ["c", 1200],
    ]);
    assert.equal(d.due.size, 0);
    assert.equal(String(d.actor.getSnapshot().value), "idle");
    assert.equal(d.actor.getSnapshot().context.fired, 2);
    // Nothing due: it rests until a deadline is added.
    d.clock.increment(10_000);
    assert.equal(d.actor.getSnapshot().context.fired, 2);
    d.add("d", 500);
    d.clock.increment(500);
    assert.deepEqual(d.expired.at(-1), ["d", 11_700]);
    assert.deepEqual(d.states, ["idle", "armed", "idle", "armed", "idle", "armed", "idle"]);
    d.actor.stop();
  });

  it("expires together the deadlines that come at once, and a stopped timer expires nothing", () => {
    const d = runDeadlines();
    d.add("a", 300);
    d.add("b", 300);
    d.clock.increment(300);
    assert.deepEqual(
      d.expired.map(([id]) => id),
      ["a", "b"],
    );
    d.add("c", 300);
    d.actor.send(earliestDeadlineEvents.stop());
    d.clock.increment(1000);
    assert.equal(d.expired.length, 2);
    assert.equal(d.actor.getSnapshot().status, "done");
  });
});
