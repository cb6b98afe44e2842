import { createDispatchConnectionBridge } from "../../src/bridges/dispatchConnectionBridge.js";
import { invalidOption } from "../../src/errors.js";
import { definePart } from "../../src/part.js";
import { DispatchRunner } from "../../src/worker/dispatchRunner.js";
import { connections } from "../partKinds.js";

/** Options DispatchConnection reads from its registration, besides the common part options. */
export interface DispatchConnectionOptions {
  /** Runs the messages handed to the worker and keeps what it holds across restarts of the part. */
  dispatch?: DispatchRunner;
}

/**
 * Connects a palm worker's DEALER to its master's Dispatch ROUTER: it announces the worker and its credit,
 * takes the messages handed to it, and sends their results back (the `dispatch` option, a
 * `DispatchRunner`, runs them). No pylm counterpart: pylm's workers use PULL and PUSH.
 */
export const DispatchConnection = definePart<DispatchConnectionOptions>(
  "DispatchConnection",
  connections.bypass,
  {
    optionKeys: ["dispatch"],
    summary:
      "Connects a palm worker's DEALER to its master's Dispatch ROUTER: credit, work and results (no pylm counterpart).",
    bridge: createDispatchConnectionBridge(),
    prepare: (environment) => {
      if (!(environment.options.dispatch instanceof DispatchRunner)) {
        throw invalidOption(
          `dispatch (part "${environment.name}")`,
          "a DispatchRunner",
          environment.options.dispatch,
        );
      }
    },
  },
);
