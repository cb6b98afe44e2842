/**
 * What one xstate event costs on this machine with no palm in it: the floor under palm's in-process
 * routing, where every message is at least one event to the router and the part machines.
 */
import { createActor, setup } from "xstate";
import { checkCount } from "./run-support.js";

/** A machine that takes an event and does nothing with it: the least an event to an actor costs. */
const idle = setup({ types: { events: {} as { type: "tick" } } }).createMachine({
  id: "idle",
  on: { tick: {} },
});

const TICK = { type: "tick" } as const;

/**
 * Sends `events` events to an actor of a machine that does nothing with them, `runs` times after a
 * warm-up, and returns the fastest run's cost per event in µs: the least xstate asks of every event here.
 *
 * @example
 * const us = xstateEventFloorUs(); // about 1 µs on a 2-core cloud VM
 */
export function xstateEventFloorUs(events = 300_000, runs = 5): number {
  checkCount("events", events, 1);
  checkCount("runs", runs, 1);
  const actor = createActor(idle);
  actor.start();
  for (let i = 0; i < events; i++) actor.send(TICK); // JIT warm-up
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    for (let i = 0; i < events; i++) actor.send(TICK);
    best = Math.min(best, ((performance.now() - start) * 1000) / events);
  }
  actor.stop();
  return best;
}
