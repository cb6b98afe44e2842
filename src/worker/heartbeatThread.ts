import { Worker as Thread } from "node:worker_threads";
import type { Logger } from "../logger.js";
import type { CurveSocketOptions } from "../sockets/socketPlan.js";
import { BusyBoard } from "./busyBoard.js";

/** What the heartbeat thread is started with. @internal */
export interface BeatThreadData {
  readonly id: string;
  readonly address: string;
  readonly intervalMs: number;
  readonly buffer: SharedArrayBuffer;
  readonly base: number;
  readonly curve?: CurveSocketOptions;
}

/** How a worker's heartbeat thread is set up. */
export interface HeartbeatThreadOptions {
  /** The worker's id: the beats name it, and the thread's DEALER is `<id>#beat`. */
  readonly id: string;
  /** The master's dispatch address. */
  readonly address: string;
  readonly intervalMs: number;
  readonly curve?: CurveSocketOptions;
  readonly logger: Logger;
}

/** How long `stop()` waits for the thread to end by itself before terminating it. */
const STOP_WAIT_MS = 2000;

// From the built package the thread's entry is the .js file beside this one. From the TypeScript sources
// (run under tsx) it is the .ts file, and the thread registers tsx itself first: Node 20 does not carry a
// loader registered with `--import` into worker threads.
const FROM_SOURCES = import.meta.url.endsWith(".ts");
const ENTRY = new URL(FROM_SOURCES ? "./beatThread.ts" : "./beatThread.js", import.meta.url);

function createThread(workerData: BeatThreadData): Thread {
  if (!FROM_SOURCES) return new Thread(ENTRY, { workerData });
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); });`;
  return new Thread(boot, { eval: true, workerData });
}

/**
 * A worker's heartbeats, sent from a `worker_threads` thread with its own DEALER so that one long
 * synchronous call on the main thread does not make the worker look dead. The main thread tells it, through
 * `board` (shared memory), which call it is inside; the beats carry that call while it has run long.
 */
export class HeartbeatThread {
  readonly board = new BusyBoard();
  readonly #options: HeartbeatThreadOptions;
  #thread: Thread | undefined;
  #exited: Promise<void> | undefined;

  constructor(options: HeartbeatThreadOptions) {
    this.#options = options;
  }

  /** Starts the thread (once; a no-op when the interval is 0). */
  start(): void {
    const { id, address, intervalMs, curve, logger } = this.#options;
    if (this.#thread || intervalMs <= 0) return;
    const workerData: BeatThreadData = {
      id,
      address,
      intervalMs,
      buffer: this.board.buffer,
      base: this.board.base,
      ...(curve ? { curve } : {}),
    };
    const thread = createThread(workerData);
    // Never what keeps the process alive: the worker's own sockets decide that.
    thread.unref();
    thread.on("error", (error) => logger.error({ err: error }, "heartbeat thread failed"));
    this.#exited = new Promise((resolve) => thread.once("exit", () => resolve()));
    this.#thread = thread;
  }

  /** Beats to the master at `address` from now on (it came back elsewhere). */
  moveTo(address: string): void {
    this.#thread?.postMessage({ moveTo: address });
  }

  /** Ends the thread (its socket closed) and resolves once it has exited. Idempotent. */
  async stop(): Promise<void> {
    const thread = this.#thread;
    if (!thread) return;
    this.#thread = undefined;
    thread.postMessage("stop");
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), STOP_WAIT_MS);
    });
    const ended = await Promise.race([this.#exited, late]);
    clearTimeout(timer);
    if (ended === "late") await thread.terminate();
  }
}
