import type { AnyActorLogic, AnyEventObject, AnyStateMachine } from "xstate";
import { stateName } from "../serverTemplate.js";
import { modelEvents } from "./modelEvents.js";
import { type ModelPath, replay, snapshotAfter } from "./partModel.js";
import { seededRandom } from "./seededRandom.js";

/**
 * `count` random walks of up to `maxSteps` events through a part machine, each event one the machine
 * takes a transition on, chosen by a generator seeded with `seed`: more orders of the same transitions
 * than the covering paths try, replayable from the seed.
 */
export function randomPaths(
  machine: AnyStateMachine,
  count: number,
  seed: number,
  input: unknown = { name: "Part", role: "outbound", partType: "Part", highWater: 1 },
  filter: (state: string, event: AnyEventObject) => boolean = () => true,
  maxSteps = 8,
  eventsOf: (snapshot: { value: unknown; context: any }) => AnyEventObject[] = modelEvents,
): ModelPath[] {
  const random = seededRandom(seed);
  const logic = machine as AnyActorLogic;
  const paths: ModelPath[] = [];
  for (let n = 0; n < count; n++) {
    const events: AnyEventObject[] = [];
    let steps: ModelPath["steps"] = [];
    for (let i = 0; i < maxSteps; i++) {
      const snapshot = snapshotAfter(logic, input, events);
      // A failed part's only way on is its escalation to the router.
      const candidates =
        snapshot.value === "failed"
          ? [{ type: "xstate.after.0.part.failed" }]
          : eventsOf(snapshot as { value: unknown; context: any });
      // Try candidates from a random start until one is taken.
      const start = Math.floor(random() * candidates.length);
      let taken = false;
      for (let k = 0; k < candidates.length && !taken; k++) {
        const event = candidates[(start + k) % candidates.length]!;
        if (!filter(stateName(snapshot.value), event)) continue;
        const tried = replay(logic, input, [...events, event]);
        if (tried[tried.length - 1]!.transitions.length === 0) continue;
        events.push(event);
        steps = tried;
        taken = true;
      }
      const last = steps[steps.length - 1];
      if (!taken || !last || last.status !== "active") break;
    }
    if (steps.length > 0) paths.push({ steps });
  }
  return paths;
}
