import { randomUUID } from "node:crypto";
import { inboundPartMachine } from "../../machines/inboundPart.js";
import { createFollowBridge, type FollowState } from "../../src/bridges/followBridge.js";
import { PRESENCE_TOPIC } from "../../src/bridges/presence.js";
import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";
import { STREAM_HELLO_PREFIX } from "../../src/streams/protocol.js";
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
  /**
   * Read a palm publisher's results over a stream of its own (its `Streams` part) instead of the PUB, so
   * this subscriber's pace holds back no other consumer of that publisher. Needs `greet`. @default true
   */
  ownStream?: boolean;
}

const provided = inboundPartMachine.provide({
  actors: { bridge: createReaderBridge(socketPlan("sub", false), 2) },
});
const following = inboundPartMachine.provide({ actors: { bridge: createFollowBridge() } });

/**
 * Connects a SUB socket to a publisher and subscribes to the topic named by its `previous` option (or the
 * `subscribe` list; everything when neither is given); messages go to the router (pylm's `SubConnection`).
 * A palm publisher with a `Streams` part is followed over a stream of this part's own instead (`ownStream`,
 * see `createFollowBridge`); a pylm one is read over its PUB. Greeting (the default), the part watches a
 * palm publisher's presence, stream or not, so the server names it in its own (see `Presence.upstream`).
 */
export const SubConnection = definePart<SubConnectionOptions>("SubConnection", connections.inbound, {
  optionKeys: ["previous", "subscribe", "greet", "greetTimeoutMs", "ownStream"],
  summary:
    "Connects a SUB socket to a publisher, subscribed to the topic `previous` (pylm's `SubConnection`).",
  build: (environment) => {
    const { options } = environment;
    if (!options.subscribe && typeof options.previous === "string") options.subscribe = [options.previous];
    // Greet the publisher (a palm PubService answers), so `start()` resolves only once the subscription
    // is live; a publisher that never answers (not up yet, or pylm) is waited for `greetTimeoutMs` (3 s).
    if (options.follow !== undefined) return following;
    // Greeting, it follows the publisher (see `createFollowBridge`): over a stream of its own, or over the
    // PUB with `ownStream: false`, watching the publisher's presence either way.
    if (options.greet !== false) {
      const askTopic = `${STREAM_HELLO_PREFIX}${randomUUID()}`;
      const state: FollowState = {
        id: `${environment.server}/${environment.name}/${randomUUID()}`,
        topics: options.subscribe ?? [""],
        askTopic,
        mode: "asking",
        ownStream: options.ownStream !== false,
      };
      options.follow = state;
      // The publisher's presence too: a restart of it (or of a server before it) is told on to clients.
      options.subscribe = [askTopic, PRESENCE_TOPIC];
      return following;
    }
    return provided;
  },
});
