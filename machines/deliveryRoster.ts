import { greeted, info, newWorker, type Worker } from "./deliveryRecords.js";
import type { HelloInfo, WorkerInfo } from "./deliveryTypes.js";

/** A worker that has not sent its first heartbeat yet is lost after this many times `workerTimeoutMs`. */
const FIRST_BEAT_GRACE = 3;
/** Workers remembered at most: gone ones are forgotten first. */
const MAX_REMEMBERED = 4096;

/**
 * A master's palm workers: who joined, their liveness (beats, silence, a stuck call) and their credit.
 * What they hold is the ledger's to hand back; this only says who is alive and who may take work.
 * @internal
 */
export class Roster {
  readonly #workers = new Map<string, Worker>();
  readonly #options: { readonly workerTimeoutMs: number; readonly stuckAfterMs: number };

  constructor(options: { readonly workerTimeoutMs: number; readonly stuckAfterMs: number }) {
    this.#options = options;
  }

  get(id: string): Worker | undefined {
    return this.#workers.get(id);
  }

  /** Every worker remembered, oldest first. */
  values(): IterableIterator<Worker> {
    return this.#workers.values();
  }

  /** What `master.workers()` shows. */
  infos(): WorkerInfo[] {
    return [...this.#workers.values()].map(info);
  }

  anyAlive(): boolean {
    for (const worker of this.#workers.values()) if (worker.state === "alive") return true;
    return false;
  }

  /** Registers a hello (a new worker, one back, or a repeat); undefined if every worker remembered is alive. */
  hello(hello: HelloInfo, now: number): { worker: Worker; joined: boolean; rejoined: boolean } | undefined {
    let worker = this.#workers.get(hello.id);
    const joined = worker === undefined || worker.state !== "alive";
    const rejoined = worker !== undefined && worker.state !== "alive";
    if (!worker) {
      if (this.#workers.size >= MAX_REMEMBERED && !this.#evict()) return undefined;
      worker = newWorker(hello, now);
      this.#workers.set(hello.id, worker);
    } else {
      if (rejoined) worker.rejoins++;
      greeted(worker, hello);
    }
    worker.lastSeen = now;
    // A worker announces its inspector in a second hello once it listens: kept, but it joined only once.
    if (hello.inspector !== undefined) worker.inspector = hello.inspector;
    // What it still holds from before (a re-announce) costs it credit until it answers.
    for (const id of hello.holding ?? []) if (!worker.held.has(id)) worker.held.set(id, 0);
    return { worker, joined, rejoined };
  }

  /**
   * A beat: `who` if the id is unknown (a master restarted, a forgery) or was declared lost (it says hello
   * again); the seq of the call it is stuck in if it just became stuck; else undefined.
   */
  beat(id: string, busy: { seq: number; ms: number } | undefined, now: number): "who" | number | undefined {
    const worker = this.#workers.get(id);
    if (worker?.state !== "alive") return "who";
    heard(worker, now);
    worker.heartbeats++;
    const stuck = busy !== undefined && busy.ms >= this.#options.stuckAfterMs;
    if (stuck && !worker.stuck) {
      worker.stuck = true;
      return busy.seq;
    }
    if (!stuck && worker.stuck) worker.stuck = false;
    return undefined;
  }

  /** Workers silent for their timeout (counted from `deafAt` at the earliest), now declared lost. */
  silent(now: number, deafAt: number): Worker[] {
    const lost: Worker[] = [];
    for (const worker of this.#workers.values()) {
      if (worker.state !== "alive") continue;
      // Until its first beat a worker gets longer: its heartbeat thread may take a while to start.
      const timeout = this.#options.workerTimeoutMs * (worker.heartbeats === 0 ? FIRST_BEAT_GRACE : 1);
      if (now - Math.max(worker.lastSeen, deafAt) <= timeout) continue;
      worker.state = "lost";
      worker.lostAt = now;
      lost.push(worker);
    }
    return lost;
  }

  /** A worker that said goodbye (`left`) or could not be reached (`lost`): returns it if it was alive. */
  gone(id: string, state: "lost" | "left", now: number): Worker | undefined {
    const worker = this.#workers.get(id);
    if (worker?.state !== "alive") return undefined;
    worker.state = state;
    if (state === "lost") worker.lostAt = now;
    return worker;
  }

  /** What a worker may take now: nothing if it is not alive, stuck or running a suspect alone. */
  credit(worker: Worker): number {
    if (worker.state !== "alive" || worker.stuck) return 0;
    if (worker.alone !== undefined) {
      if (worker.held.has(worker.alone)) return 0;
      worker.alone = undefined;
    }
    return Math.max(0, worker.limit - worker.held.size);
  }

  /** Forgets the oldest worker that is not alive; false if every one remembered is alive. */
  #evict(): boolean {
    for (const [id, worker] of this.#workers) {
      if (worker.state !== "alive" && worker.held.size === 0) {
        this.#workers.delete(id);
        return true;
      }
    }
    return false;
  }
}

/** A sign of life from an alive worker (a beat, a result). @internal */
export function heard(worker: Worker, now: number): void {
  if (worker.state === "alive") worker.lastSeen = now;
}
