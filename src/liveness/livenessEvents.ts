import type { WorkerInfo } from "./workerRegistry.js";

/** Why a master handed messages to its workers again. */
export type RedeliveryReason =
  /** A worker stopped heartbeating: it may have held any message sent before. */
  | "worker.lost"
  /** An established connection on the worker PUSH closed: what was queued for that peer is gone. */
  | "peer.disconnected"
  /** A message stayed unanswered for `redeliverAfterMs` while a peer that does not heartbeat was connected. */
  | "timeout";

/** Events a distributing server (Master, Hub) emits about its workers, besides the lifecycle events. */
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
    };
