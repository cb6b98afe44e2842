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
  /** Messages handed to the part that it has not acknowledged yet. */
  readonly pending?: number;
  /** The part's latest failures with their reasons, newest last (a few at most). */
  readonly failures?: readonly InspectorFailure[];
}

/** One failure of a part, as the supervision view lists it. */
export interface InspectorFailure {
  /** When the part failed (milliseconds since the epoch). */
  readonly at: number;
  /** The error's message. */
  readonly reason: string;
  /** The part's restart count when it failed: its counters were then "since restart N". */
  readonly restart: number;
  /** The backoff before the next restart, or undefined when the part is not restarted. */
  readonly restartInMs?: number;
}

/** How a server's router supervises its parts, and how much of its restart budget is used. */
export interface InspectorSupervision {
  /** `one-for-one`, `one-for-all` or `rest-for-one`. */
  readonly strategy: string;
  /** Restarts allowed within `withinMs` before the server escalates. */
  readonly intensity: number;
  /** The intensity window in milliseconds. */
  readonly withinMs: number;
  /** Restarts decided within the window, now. */
  readonly used: number;
  /** The backoff between restarts of a part failing again and again. */
  readonly backoff: { readonly minMs: number; readonly maxMs: number; readonly factor: number };
}

/** An actor of the server that is not a part (such as a Master's delivery ledger): its state and context counts. */
export interface InspectorActor {
  /** The actor's id in the router (its `systemId`). */
  readonly name: string;
  /** Its current state, dotted. */
  readonly state: string;
  /** Small facts from its context: numbers, short strings and the sizes of collections. */
  readonly facts: Readonly<Record<string, number | string>>;
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
  /** The router's supervision policy and restart budget, when known. */
  readonly supervision?: InspectorSupervision;
  /** The router's other children (a Master's delivery ledger), drawn like parts. */
  readonly actors?: readonly InspectorActor[];
  /** Other processes' inspectors this one knows of (a Master's workers that announced theirs). */
  readonly peers?: readonly InspectorPeer[];
}

/** Another process's inspector, as a server knows it (a worker that announced its inspector). */
export interface InspectorPeer {
  /** The process's name (the worker's). */
  readonly name: string;
  /** Its inspector's URL. */
  readonly url: string;
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
  | "messages.redelivered"
  | "messages.sampled"
  | "message.hop";

/** One hop of one message: a part received it (`in`) or was handed it to send (`out`). */
export interface InspectorMessageHop {
  /** The message's delivery id (`id`), or its `cache` key when it has none. */
  readonly id: string;
  /** Whether the part received the message or was handed it to send. */
  readonly direction: "in" | "out";
  /** The client that started the stream. */
  readonly client: string;
  /** The function entry at the message's stage (`server.fn`). */
  readonly function: string;
  /** The pipeline stage. */
  readonly stage: number;
  /** The payload's size in bytes. */
  readonly size: number;
  /** The payload's first bytes as text (or hex when not printable), after the `redact` hook. */
  readonly preview: string;
  /** The message's error text, when it carries one. */
  readonly error?: string;
}

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
  /** For `part.state`: the state left. */
  readonly from?: string;
  /** For `part.state`: the event that caused the transition. */
  readonly cause?: string;
  /** For `message.hop`: the message at this hop. */
  readonly message?: InspectorMessageHop;
  /** The process (server name) the event comes from, set where several inspectors are joined. */
  readonly process?: string;
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

/** One process as a cluster page shows it. */
export interface ClusterProcess {
  /** The name the page shows (the server's name, made unique). */
  readonly process: string;
  /** Where its inspector is (a URL), or the trace it was read from. */
  readonly url: string;
  /** Whether its inspector is reachable now. */
  readonly connected: boolean;
  /** Its latest live snapshot, once known. */
  readonly snapshot?: InspectorLiveSnapshot;
}

/** What a cluster page shows at one instant: every process joined. */
export interface ClusterSnapshot {
  /** `live` for `palm inspect URL…`, `replay` for `palm inspect --replay`. */
  readonly mode: "live" | "replay";
  readonly processes: readonly ClusterProcess[];
}
