import { bypassPartMachine } from "../../machines/bypassPart.js";
import { createDispatchConnectionBridge } from "../../src/bridges/dispatchConnectionBridge.js";
import { invalidOption } from "../../src/errors.js";
import { definePart } from "../../src/part.js";
import { DispatchRunner } from "../../src/worker/dispatchRunner.js";

const provided = bypassPartMachine.provide({ actors: { bridge: createDispatchConnectionBridge() } });

/**
 * Connects a palm worker's DEALER to its master's Dispatch ROUTER: it announces the worker and its credit,
 * takes the messages handed to it, and sends their results back (the `dispatch` option, a
 * `DispatchRunner`, runs them). No pylm counterpart: pylm's workers use PULL and PUSH.
 */
export const DispatchConnection = definePart({
  partType: "DispatchConnection",
  role: "bypass",
  blocking: false,
  service: false,
  scheme: "zmq",
  summary:
    "Connects a palm worker's DEALER to its master's Dispatch ROUTER: credit, work and results (no pylm counterpart).",
  machine: bypassPartMachine,
  build: (environment) => {
    if (!(environment.options.dispatch instanceof DispatchRunner)) {
      throw invalidOption(
        `dispatch (part "${environment.name}")`,
        "a DispatchRunner",
        environment.options.dispatch,
      );
    }
    return provided;
  },
});
