import { createActor } from "xstate";
import { greetWaitEvents, greetWaitMachine } from "../../machines/greetWait.js";

/** A greet wait under way (see {@link greetWaitMachine}). @internal */
export interface GreetWait {
  /** The publisher answered: the wait ends, `gaveUp` will not run. */
  met(): void;
  /** The part stopped: the wait ends, `gaveUp` will not run. */
  stop(): void;
}

/**
 * Starts a {@link greetWaitMachine} actor: `gaveUp` runs if `met()` does not come within `waitMs`.
 * @internal
 */
export function startGreetWait(waitMs: number, gaveUp: () => void): GreetWait {
  const actor = createActor(greetWaitMachine.provide({ actions: { gaveUp } }), { input: { waitMs } }).start();
  const end = (event: ReturnType<typeof greetWaitEvents.met>) => {
    if (actor.getSnapshot().status === "active") actor.send(event);
  };
  return {
    met: () => end(greetWaitEvents.met()),
    stop: () => {
      end(greetWaitEvents.stop());
      actor.stop();
    },
  };
}
