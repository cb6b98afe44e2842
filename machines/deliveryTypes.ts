import type { PalmMessage } from "./types.js";

/** What a master knows about one worker (`master.workers()`). Times are milliseconds since the epoch. */
export interface WorkerInfo {
  /** The worker's id (new at every start of a worker). */
  readonly id: string;
  readonly name: string;
  readonly pid: number;
  readonly host: string;
  /** `left`: it said goodbye. */
  readonly state: "alive" | "lost" | "left";
  /** When the master first heard of it. */
  readonly firstSeen: number;
  /** When it was last heard of (a heartbeat, a result or its hello). */
  readonly lastSeen: number;
  /** When it was declared lost (its latest loss), if ever. */
  readonly lostAt: number | undefined;
  /** How many times it was declared lost and came back. */
  readonly rejoins: number;
  readonly heartbeats: number;
  /** Its live inspector's URL, if it serves one (what `palm inspect` finds the workers by). */
  readonly inspector?: string;
}

/** Why a master handed messages to its workers again. */
export type RedeliveryReason =
  /** A worker went silent: exactly the messages it held go to others. */
  | "worker.lost"
  /** A worker said goodbye (or could no longer be reached) while it held messages. */
  | "worker.left"
  /** A worker is stuck in one long synchronous call: the messages it had not started go to others. */
  | "worker.stuck"
  /** A connection on the worker PUSH (pylm workers) closed: what was queued for that peer is gone. */
  | "peer.disconnected"
  /** A message held by the PUSH pool (pylm workers) stayed unanswered for `redeliverAfterMs`. */
  | "timeout";

/** Events a distributing server (Master, Hub, GatewayServer) emits about its workers and calls. */
export type LivenessEvent =
  | { type: "worker.joined"; worker: WorkerInfo; rejoined: boolean }
  | { type: "worker.lost"; worker: WorkerInfo }
  | {
      type: "messages.redelivered";
      reason: RedeliveryReason;
      /** Messages handed to the workers again. */
      count: number;
      /** Messages answered with an error instead: they had used up `maxAttempts`. */
      failed: number;
    }
  | {
      type: "calls.timedOut";
      /** Calls answered with a `PALM_ERR_TIMEOUT` error because their deadline passed. */
      count: number;
    };

/** How a master's delivery actor keeps what it hands its workers. Every field has a documented default. */
export interface DeliveryOptions {
  /** A worker silent this long (no heartbeat, no result) is lost; what it held goes to others. */
  readonly workerTimeoutMs: number;
  /** A call unanswered this long after the master took it in is answered with `PALM_ERR_TIMEOUT`. */
  readonly callTimeoutMs: number;
  /**
   * Attempts charged to a message (a worker lost while it held it alone, see `Suspects`) before it is
   * answered with an error instead. Pylm workers' hand-outs are all charged.
   */
  readonly maxAttempts: number;
  /** Messages in flight (taken in, not answered) before the master stops reading new ones. */
  readonly maxInFlight: number;
  /** A message held by the PUSH pool (pylm workers, no heartbeats) this long is handed out again. */
  readonly redeliverAfterMs: number;
  /** A worker whose one synchronous call has run this long is stuck: it gets nothing new. */
  readonly stuckAfterMs: number;
  /** Messages each peer of the worker PUSH (a pylm worker) may hold. */
  readonly pushPrefetch: number;
  /** A call that finds no worker at all for this long is answered with `PALM_ERR_NO_WORKERS`. */
  readonly noWorkerTimeoutMs: number;
  /** Result ids remembered to drop duplicates. */
  readonly settledLimit: number;
}

/**
 * A result whose id is its message's id followed by this says the call ended with no result at all (a
 * `MuxWorker` function that yielded nothing): the ledger settles the message and gives its worker's credit
 * back, and passes nothing on.
 */
export const NO_RESULT_SUFFIX = "/~none";

/** The defaults of `DeliveryOptions`. */
export const DELIVERY_DEFAULTS: DeliveryOptions = {
  workerTimeoutMs: 2000,
  callTimeoutMs: 60_000,
  maxAttempts: 3,
  maxInFlight: 10_000,
  redeliverAfterMs: 20_000,
  stuckAfterMs: 1000,
  pushPrefetch: 100,
  noWorkerTimeoutMs: 2000,
  settledLimit: 200_000,
};

/** The parts a delivery actor talks to (by name, through the router). */
export interface DeliveryParts {
  /** The inbound part clients' messages come from (held back at `maxInFlight`). */
  readonly intake: string;
  /** Where results and error answers go (`Pub`, or a gateway's dealer). */
  readonly results: string;
  /** The ROUTER part palm workers are reached through. */
  readonly dispatch: string;
  /** The PUSH part pylm workers pull from. */
  readonly push: string;
  /** The inbound part pylm workers push their results to (the worker PULL). */
  readonly workerResults: string;
}

/** What a delivery to the `Dispatch` part carries besides its messages: the worker and the frame's header. */
export type DispatchOrder =
  | { readonly type: "work"; readonly worker: string; readonly seq: number; readonly deadlines: number[] }
  | { readonly type: "revoke"; readonly worker: string; readonly seqs: number[] }
  | { readonly type: "welcome"; readonly worker: string }
  | { readonly type: "who"; readonly worker: string };

/** A worker's hello, as the delivery actor reads it (the wire shape, see the dispatch protocol). */
export interface HelloInfo {
  readonly id: string;
  readonly name: string;
  readonly pid: number;
  readonly host: string;
  readonly prefetch: number;
  readonly heartbeatMs: number;
  readonly timeouts?: Readonly<Record<string, number>>;
  readonly holding?: readonly string[];
  readonly inspector?: string;
}

/** What the `Dispatch` part (and the worker PUSH) report to the delivery actor besides results. */
export type WorkerNews =
  | { readonly type: "hello"; readonly hello: HelloInfo }
  | { readonly type: "results"; readonly worker: string }
  | {
      readonly type: "beat";
      readonly worker: string;
      readonly busy: { readonly seq: number; readonly ms: number } | undefined;
    }
  | { readonly type: "bye"; readonly worker: string }
  /** The worker wants to hold at most `prefetch` messages from now on (its calls got slower or faster). */
  | { readonly type: "credit"; readonly worker: string; readonly prefetch: number }
  /** A send to this worker was refused (ZMQ_ROUTER_MANDATORY): it is gone. */
  | { readonly type: "gone"; readonly worker: string }
  /** Peers on the worker PUSH: how many are connected, and whether one just left. */
  | { readonly type: "peers"; readonly connected: number; readonly left: boolean };

/** Something the delivery actor decided to do: route messages to a part, hold its intake, or tell observers. */
export type DeliveryCommand =
  | {
      readonly type: "route";
      readonly to: string;
      readonly messages: PalmMessage[];
      readonly envelope?: unknown;
    }
  | { readonly type: "hold"; readonly high: boolean }
  | { readonly type: "event"; readonly event: LivenessEvent };

/** Counters the inspector shows (the delivery actor's context). */
export interface DeliveryStats {
  readonly inFlight: number;
  readonly queued: number;
  /** Messages a lost worker held that wait to run alone (one of them may be what killed it). */
  readonly suspects: number;
  /** Clients with messages queued (they are served in turn). */
  readonly clients: number;
  /** Per palm worker (and `~push`, the pylm pool): what it holds and the credit it has left. */
  readonly workers: Record<string, { held: number; credit: number; state: string }>;
  readonly redelivered: number;
  readonly duplicates: number;
  readonly deadlines: number;
  readonly failed: number;
  readonly revoked: number;
}
