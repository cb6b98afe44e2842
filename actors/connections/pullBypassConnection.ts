import { bypassPartMachine } from "../../machines/bypassPart.js";
import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { invalidOption } from "../../src/errors.js";
import type { PalmMessage } from "../../src/message.js";
import { definePart } from "../../src/part.js";

/** Options PullBypassConnection reads from its registration. */
export interface PullBypassConnectionOptions {
  /** Consumes each message. */
  handle: (message: PalmMessage) => void;
}

const provided = bypassPartMachine.provide({
  actors: { bridge: createReaderBridge(socketPlan("pull", false), 1) },
});

/**
 * Connects a PULL socket and hands each message to its `handle` option, bypassing the router (pylm's
 * `PullBypassConnection`): for side channels such as logs or metrics.
 */
export const PullBypassConnection = definePart<PullBypassConnectionOptions>({
  partType: "PullBypassConnection",
  optionKeys: ["handle"],
  role: "bypass",
  blocking: false,
  service: false,
  scheme: "zmq",
  summary:
    "Connects a PULL socket and hands each message to its `handle` option, bypassing the router (pylm's `PullBypassConnection`).",
  machine: bypassPartMachine,
  build: (environment) => {
    const handle = environment.options.handle as ((message: PalmMessage) => void) | undefined;
    if (typeof handle !== "function") {
      throw invalidOption(`handle (part "${environment.name}")`, "a function (message) => void", handle);
    }
    // The reader bridge runs `scatter` on every message; here it is the consumer, and the machine only counts.
    environment.options.scatter = (message) => {
      handle(message);
      return [message];
    };
    return provided;
  },
});
