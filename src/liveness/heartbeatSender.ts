import { hostname } from "node:os";
import type { Logger } from "../logger.js";
import type { PalmMessage } from "../message.js";
import { heartbeatMessage, isHeartbeat } from "./heartbeat.js";

/** How a worker heartbeats. */
export interface HeartbeatSenderOptions {
  readonly workerId: string;
  readonly name: string;
  readonly intervalMs: number;
  /** Hands a heartbeat to the worker's outbound part (the PUSH to the master's worker PULL). */
  readonly send: (message: PalmMessage) => void;
  readonly logger: Logger;
}

/** After this many intervals without its heartbeat going out, the sender stops waiting for it. */
const STUCK_INTERVALS = 10;

/**
 * Sends a worker's heartbeats: one at start (its announcement), then one every `intervalMs`, through the
 * same PUSH as its results, so a master that hears one has also received every result sent before it. At
 * most one heartbeat waits to go out: a master that cannot be reached (restarting, unreachable) is not
 * flooded with stale ones when it comes back, and its first fresh one tells it the worker is there.
 */
export class HeartbeatSender {
  readonly #options: HeartbeatSenderOptions;
  readonly #host = hostname();
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  /** Ticks since the last heartbeat was handed over and has not gone out yet (0: none waiting). */
  #waiting = 0;

  constructor(options: HeartbeatSenderOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer || this.#options.intervalMs <= 0) return;
    this.#beat();
    this.#timer = setInterval(() => this.#beat(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The `gather` hook of the worker's PUSH part: notes that a heartbeat is going out now. */
  leaving = (message: PalmMessage): PalmMessage[] => {
    if (isHeartbeat(message)) this.#waiting = 0;
    return [message];
  };

  #beat(): void {
    if (this.#waiting > 0 && this.#waiting++ < STUCK_INTERVALS) return;
    const { workerId, name, intervalMs } = this.#options;
    const message = heartbeatMessage(workerId, {
      name,
      pid: process.pid,
      host: this.#host,
      intervalMs,
      seq: ++this.#seq,
    });
    // Set first: the send may run the whole way to the socket, `leaving` included, before it returns.
    this.#waiting = 1;
    try {
      this.#options.send(message);
    } catch (error) {
      // The worker stopped or escalated: nothing left to heartbeat for.
      this.#options.logger.debug({ err: error }, "heartbeat not sent");
      this.stop();
    }
  }
}
