import type { StateGraph } from "../viz/StateGraph.js";
import type { ServerPartKind } from "../viz/serverToGraph.js";

/** One part as the inspector shows it: identity, current state and counters. */
export interface InspectorPart {
  /** The part's unique name within the server. */
  readonly name: string;
  /** Whether the part is inbound, outbound or bypass. */
  readonly kind: ServerPartKind;
  /** The part's type (`PullService`); also the key of its statechart in `statecharts`. */
  readonly partType: string;
  /**
   * The part's current state as a dotted path (`running.ready`); several active leaves of a
   * parallel state are separated by commas (`running.a.idle,running.b.busy`).
   */
  readonly state: string;
  /** How many times the router restarted the part. */
  readonly restarts: number;
  /** Messages the part received. */
  readonly messagesIn: number;
  /** Messages the part sent. */
  readonly messagesOut: number;
  /** Errors the part counted (decode failures, hook failures, crashes). */
  readonly errors: number;
  /** The most recent error's message, if any. */
  readonly lastError?: string;
}

/** One row of the routing table (pylm's `register_inbound(name, route, block)`). */
export interface InspectorRoute {
  /** The part messages come from. */
  readonly from: string;
  /** The part they are routed to. */
  readonly to: string;
  /** Whether `from` waits for the feedback and answers its peer with it. */
  readonly block: boolean;
  /** The part the feedback is rerouted to once, if any. */
  readonly reroute?: string;
}

/** Everything the inspector page shows at one instant. */
export interface InspectorSnapshot {
  /** The server's name. */
  readonly server: string;
  /** Every part, in registration order. */
  readonly parts: readonly InspectorPart[];
  /** The routing table. */
  readonly routes: readonly InspectorRoute[];
  /** Each part type's statechart (from `machineToGraph`), keyed by `partType`. */
  readonly statecharts: Readonly<Record<string, StateGraph>>;
}

/** The lifecycle and state events the inspector logs. */
export type InspectorEventType =
  | "server.started"
  | "server.stopping"
  | "server.stopped"
  | "server.escalated"
  | "part.started"
  | "part.state"
  | "part.failed"
  | "part.restarted"
  | "part.stopped"
  | "part.error"
  | "worker.joined"
  | "worker.lost"
  | "messages.redelivered";

/** One entry of the inspector's event log. */
export interface InspectorEvent {
  /** What happened. */
  readonly type: InspectorEventType;
  /** The part concerned, for `part.*` events. */
  readonly part?: string;
  /** When it happened (milliseconds since the epoch). */
  readonly at: number;
  /** A human-readable detail: the new state, the error message, the restart count. */
  readonly detail?: string;
}

/** Where the inspector reads from: a current snapshot on demand, and a stream of events. */
export interface InspectorSource {
  /** The current snapshot; called at most a few times a second per inspector. */
  snapshot(): InspectorSnapshot;
  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (event: InspectorEvent) => void): () => void;
}

/**
 * The live part of a snapshot, as streamed to pages: statecharts are left out (pages fetch each
 * once, as SVG), and so is any timestamp, so that an unchanged server streams nothing.
 */
export type InspectorLiveSnapshot = Omit<InspectorSnapshot, "statecharts">;
