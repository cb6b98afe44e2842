import { randomUUID } from "node:crypto";
import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { HELLO_PREFIX } from "../../src/bridges/writerBridge.js";
import { definePart } from "../../src/part.js";
import { connections } from "../partKinds.js";

/** Options SubConnection reads from its registration, besides the common part options. */
export interface SubConnectionOptions {
  /** The topic to subscribe to: the previous stage's server name (pylm's `previous`). */
  previous?: string;
  /** The topics to subscribe to, instead of `previous`. @default [""] (everything) */
  subscribe?: string[];
  /** Greet the publisher so `start()` resolves once the subscription is live. @default true */
  greet?: boolean;
  /** How long to wait for the publisher's answer to the greeting. @default 3000 */
  greetTimeoutMs?: number;
}

/**
 * Connects a SUB socket to a publisher and subscribes to the topic named by its `previous` option (or the
 * `subscribe` list; everything when neither is given); messages go to the router (pylm's `SubConnection`).
 */
export const SubConnection = definePart<SubConnectionOptions>("SubConnection", connections.inbound, {
  optionKeys: ["previous", "subscribe", "greet", "greetTimeoutMs"],
  summary:
    "Connects a SUB socket to a publisher, subscribed to the topic `previous` (pylm's `SubConnection`).",
  bridge: createReaderBridge(socketPlan("sub", false), 2),
  prepare: (environment) => {
    const { options } = environment;
    if (!options.subscribe && typeof options.previous === "string") options.subscribe = [options.previous];
    // Greet the publisher (a palm PubService answers), so `start()` resolves only once the subscription
    // is live; a publisher that never answers (not up yet, or pylm) is waited for `greetTimeoutMs` (3 s).
    if (options.greet !== false && options.greetTopic === undefined) {
      const greetTopic = `${HELLO_PREFIX}${randomUUID()}`;
      options.greetTopic = greetTopic;
      options.subscribe = [...(options.subscribe ?? [""]), greetTopic];
    }
  },
});
