// Fault injection behind `ServerTemplate`'s `crash`, `exitPart`, `failSocket` and `failHook`: each fails a
// part the way a real fault would, so the router supervises it as one.
import type { AnyActorRef } from "xstate";
import { partEvents } from "../../machines/events.js";
import { invalidOption, PalmError } from "../errors.js";
import type { Registration } from "../partRegistry.js";

/** The hooks `failHook` can make throw. @internal */
export type FailingHook = "scatter" | "gather" | "handleStream";

/** Crashes a part's running actor; false when it has none (restarting or stopped). @internal */
export function crashPart(child: AnyActorRef | undefined, part: string, reason: string): boolean {
  child?.send(partEvents.crash(new PalmError("PALM_ERR_PART_CRASHED", `${part}: ${reason}`)));
  return child !== undefined;
}

/** Ends a part's running actor normally; false when it has none. @internal */
export function endPart(child: AnyActorRef | undefined): boolean {
  child?.send(partEvents.exit());
  return child !== undefined;
}

/**
 * Closes a part's socket (`discard`) and fails its running actor with a socket error; false when it had no
 * running actor. @internal
 */
export function failPartSocket(
  child: AnyActorRef | undefined,
  discard: () => void,
  part: string,
  reason: string,
): boolean {
  discard();
  child?.send(partEvents.fault(new PalmError("PALM_ERR_PART_SOCKET", `${part}: ${reason}`)));
  return child !== undefined;
}

/** Makes the next call of a registered part's hook throw, once (then the hook is the original again). @internal */
export function failNextHook(registration: Registration, hook: FailingHook): void {
  const part = registration.name;
  const options = registration.options as Record<string, unknown>;
  const original = options[hook] as ((...args: unknown[]) => unknown) | undefined;
  const identity = hook === "handleStream" ? undefined : (message: unknown) => [message];
  const target = original ?? identity;
  if (!target) throw invalidOption("hook", `a hook part "${part}" has`, hook);
  options[hook] = () => {
    options[hook] = original;
    throw new PalmError("PALM_ERR_PART_HOOK", `${part}: ${hook} failure injected`);
  };
}
