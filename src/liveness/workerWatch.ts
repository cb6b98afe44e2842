import type { InFlightLedger } from "../inFlight.js";
import type { Logger } from "../logger.js";
import type { PalmMessage } from "../message.js";
import { readHeartbeat } from "./heartbeat.js";
import type { LivenessEvent, RedeliveryReason } from "./livenessEvents.js";
import { PeerCount, type PeerEvent } from "./peerCount.js";
import { type WorkerInfo, WorkerRegistry } from "./workerRegistry.js";

/** How a master watches its workers and what it holds in flight. Every field has a documented default. */
export interface WorkerWatchOptions {
  /** A heartbeating worker silent this long is lost; what it may hold is redelivered. @default 2000 */
  workerTimeoutMs?: number;
  /**
   * A message unanswered this long since it was sent is redelivered, but only while a peer that does not
   * heartbeat (a Python pylm worker) is connected to the worker PUSH. @default 20000
   */
  redeliverAfterMs?: number;
  /** Times a message is sent to workers before it is answered with an error instead. @default 3 */
  maxAttempts?: number;
  /** Messages in flight (taken in, not answered) before the master stops reading new ones. @default 10000 */
  maxInFlight?: number;
}

/**
 * How long after a worker connection closed its messages are redelivered. libzmq reports the disconnect
 * before the PUSH socket has dropped the peer's queue, so a send in between still lands in that queue: the
 * redelivery waits this long, then covers everything sent until then.
 */
const DISCONNECT_GRACE_MS = 50;

/** The defaults of `WorkerWatchOptions`. */
export const WORKER_WATCH_DEFAULTS = {
  workerTimeoutMs: 2000,
  redeliverAfterMs: 20_000,
  maxAttempts: 3,
  maxInFlight: 10_000,
} as const;

/** What the watch needs from its server. */
export interface WorkerWatchHost {
  readonly ledger: InFlightLedger;
  readonly logger: Logger;
  readonly now: () => number;
  /** Whether the server reads its workers' messages now (its worker PULL is up and not paused). */
  listening(): boolean;
  /** Hands messages to the workers again (through the router, to the worker PUSH). */
  redeliver(messages: PalmMessage[]): void;
  /** Passes error results on to the clients (through the router, to the publisher). */
  answer(messages: PalmMessage[]): void;
  /** Holds back (or lets go) the part that takes new messages in. */
  holdBack(high: boolean): void;
  notify(event: LivenessEvent): void;
}

/**
 * A master's watch over its workers and its in-flight messages: it hears heartbeats, declares silent
 * workers lost, counts the peers on the worker PUSH, redelivers what a lost peer may have held (bounded
 * by `maxAttempts`, then an error result), and caps the messages in flight by holding back the inbound part.
 */
export class WorkerWatch {
  readonly options: Required<WorkerWatchOptions>;
  readonly #host: WorkerWatchHost;
  readonly #registry: WorkerRegistry;
  readonly #peers = new PeerCount();
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;
  #afterDisconnect: NodeJS.Timeout | undefined;
  #lastTick = 0;
  /** When an established worker connection last closed (its queued messages were redelivered then). */
  #lastDisconnect = Number.NEGATIVE_INFINITY;
  #held = false;

  constructor(host: WorkerWatchHost, options: WorkerWatchOptions = {}) {
    this.#host = host;
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...WORKER_WATCH_DEFAULTS, ...given };
    this.#registry = new WorkerRegistry(this.options.workerTimeoutMs);
    this.#tickMs = Math.max(10, Math.min(250, Math.floor(this.options.workerTimeoutMs / 4)));
    this.#lastTick = host.now();
  }

  /** Starts sweeping for lost workers and timed-out messages. */
  start(): void {
    if (this.#timer) return;
    this.#lastTick = this.#host.now();
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#afterDisconnect);
    this.#timer = undefined;
    this.#afterDisconnect = undefined;
  }

  /** Takes a heartbeat a worker pushed (never forwarded to clients). */
  heard(message: PalmMessage): void {
    const heartbeat = readHeartbeat(message);
    if (!heartbeat) return;
    const change = this.#registry.heard(heartbeat.id, heartbeat.info, this.#host.now());
    if (change?.type !== "joined") return;
    const { worker, rejoined } = change;
    this.#host.logger.info(
      { worker: worker.id, name: worker.name, host: worker.host, pid: worker.pid },
      rejoined ? "worker rejoined" : "worker joined",
    );
    this.#host.notify({ type: "worker.joined", worker, rejoined });
  }

  /** Takes a monitor event of the worker PUSH. */
  peerEvent = (event: PeerEvent): void => {
    if (!this.#peers.take(event) || this.#afterDisconnect) return;
    // The peer's queue in the PUSH socket is (about to be) gone: whatever was sent may have been in it.
    this.#afterDisconnect = setTimeout(() => {
      this.#afterDisconnect = undefined;
      const now = this.#host.now();
      this.#lastDisconnect = now;
      this.#redeliver("peer.disconnected", now);
    }, DISCONNECT_GRACE_MS);
  };

  /** Called after messages were taken in: holds the inbound part back at `maxInFlight`. */
  taken(): void {
    if (this.#held || this.#host.ledger.size < this.options.maxInFlight) return;
    this.#held = true;
    this.#host.logger.debug({ inFlight: this.#host.ledger.size }, "in-flight cap reached: holding back");
    this.#host.holdBack(true);
  }

  /** Called after results settled messages: lets the inbound part go again below 90% of `maxInFlight`. */
  settled(): void {
    if (!this.#held || this.#host.ledger.size > Math.floor(this.options.maxInFlight * 0.9)) return;
    this.#held = false;
    this.#host.holdBack(false);
  }

  /** One sweep: lost workers, then timed-out messages. Runs on a timer; callable from tests. */
  tick(): void {
    const now = this.#host.now();
    // A late tick means the process was busy: heartbeats may be waiting unread, so nobody is judged now.
    const onTime = now - this.#lastTick < this.#tickMs * 4 + 100;
    this.#lastTick = now;
    for (const change of this.#registry.sweep(now, onTime && this.#host.listening())) {
      if (change.type !== "lost") continue;
      const { worker } = change;
      this.#host.logger.warn(
        { worker: worker.id, name: worker.name, silentMs: now - worker.lastSeen },
        "worker lost: redelivering what it may hold",
      );
      this.#host.notify({ type: "worker.lost", worker });
      // If a connection closed since the worker was last heard of, that was most likely its own, and
      // what it held was redelivered then; otherwise it may hold anything sent until now.
      this.#redeliver("worker.lost", this.#lastDisconnect > worker.lastSeen ? this.#lastDisconnect : now);
    }
    if (this.#peers.connected > this.#registry.alive) {
      this.#redeliver("timeout", now - this.options.redeliverAfterMs);
    }
  }

  #redeliver(reason: RedeliveryReason, before: number): void {
    const { ledger } = this.#host;
    const now = this.#host.now();
    const again: PalmMessage[] = [];
    const failed: PalmMessage[] = [];
    for (const entry of ledger.sentBefore(before)) {
      if (entry.attempts >= this.options.maxAttempts) {
        failed.push({
          ...entry.message,
          payload: new Uint8Array(0),
          error: `no result after ${entry.attempts} attempts: the workers holding it were lost or did not answer (${reason})`,
        });
        ledger.fail(entry);
      } else {
        ledger.requeue(entry, now);
        again.push(entry.message);
      }
    }
    if (again.length === 0 && failed.length === 0) return;
    this.#host.logger.warn({ reason, count: again.length, failed: failed.length }, "redelivering messages");
    if (again.length > 0) this.#host.redeliver(again);
    if (failed.length > 0) {
      this.#host.answer(failed);
      this.settled();
    }
    this.#host.notify({ type: "messages.redelivered", reason, count: again.length, failed: failed.length });
  }

  /** Every worker heard of, alive and lost. */
  workers(): WorkerInfo[] {
    return this.#registry.list();
  }

  /** Established peers on the worker PUSH (heartbeating or not). */
  get connectedPeers(): number {
    return this.#peers.connected;
  }
}
