import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { invalidOption } from "../../src/errors.js";
import type { PalmMessage } from "../../src/message.js";
import { definePart } from "../../src/part.js";
import { connections } from "../partKinds.js";

/** Options PullBypassConnection reads from its registration. */
export interface PullBypassConnectionOptions {
  /** Consumes each message. */
  handle: (message: PalmMessage) => void;
}

/**
 * Connects a PULL socket and hands each message to its `handle` option, bypassing the router (pylm's
 * `PullBypassConnection`): for side channels such as logs or metrics.
 */
export const PullBypassConnection = definePart<PullBypassConnectionOptions>(
  "PullBypassConnection",
  connections.bypass,
  {
    optionKeys: ["handle"],
    summary:
      "Connects a PULL socket and hands each message to its `handle` option, bypassing the router (pylm's `PullBypassConnection`).",
    bridge: createReaderBridge(socketPlan("pull", false), 1),
    prepare: (environment) => {
      const handle = environment.options.handle as ((message: PalmMessage) => void) | undefined;
      if (typeof handle !== "function") {
        throw invalidOption(`handle (part "${environment.name}")`, "a function (message) => void", handle);
      }
      // The reader bridge runs `scatter` on every message; here it is the consumer, and the machine only counts.
      environment.options.scatter = (message) => {
        handle(message);
        return [message];
      };
    },
  },
);
