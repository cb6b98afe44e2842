import type { HeartbeatInfo } from "./heartbeat.js";

/** What a master knows about one worker (`master.workers()`). Times are milliseconds since the epoch. */
export interface WorkerInfo {
  /** The worker's id (new at every start of a worker). */
  readonly id: string;
  readonly name: string;
  readonly pid: number;
  readonly host: string;
  readonly state: "alive" | "lost";
  /** When the master first heard of it. */
  readonly firstSeen: number;
  /** When its last heartbeat arrived. */
  readonly lastSeen: number;
  /** When it was declared lost (its latest loss), if ever. */
  readonly lostAt: number | undefined;
  /** How many times it was declared lost and came back. */
  readonly rejoins: number;
  readonly heartbeats: number;
}

/** A change the registry noticed. */
export type WorkerChange =
  | { readonly type: "joined"; readonly worker: WorkerInfo; readonly rejoined: boolean }
  | { readonly type: "lost"; readonly worker: WorkerInfo };

type MutableWorker = { -readonly [K in keyof WorkerInfo]: WorkerInfo[K] };

/** Workers remembered at most: lost ones are forgotten first (oldest first); past it new ids are ignored. */
const MAX_REMEMBERED = 4096;

/**
 * The workers a master has heard from, and when: a worker is alive while heartbeats arrive and lost once
 * none has for `timeoutMs` while the master was listening. Pure (the clock is passed in), so it is tested
 * on simulated time.
 */
export class WorkerRegistry {
  readonly #workers = new Map<string, MutableWorker>();
  readonly #timeoutMs: number;
  /** The last time the master could not listen (its worker PULL paused or down): silence counts from then. */
  #deafAt = Number.NEGATIVE_INFINITY;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Records a heartbeat; reports a worker that joined (new, or back after it was lost). */
  heard(id: string, info: HeartbeatInfo, now: number): WorkerChange | undefined {
    const known = this.#workers.get(id);
    if (known) {
      known.lastSeen = now;
      known.heartbeats++;
      if (known.state === "alive") return undefined;
      known.state = "alive";
      known.rejoins++;
      // Re-insert: the map's order is the eviction order, and an alive worker is never evicted first.
      this.#workers.delete(id);
      this.#workers.set(id, known);
      return { type: "joined", worker: { ...known }, rejoined: true };
    }
    if (this.#workers.size >= MAX_REMEMBERED && !this.#evict()) return undefined;
    const worker: MutableWorker = {
      id,
      name: info.name,
      pid: info.pid,
      host: info.host,
      state: "alive",
      firstSeen: now,
      lastSeen: now,
      lostAt: undefined,
      rejoins: 0,
      heartbeats: 1,
    };
    this.#workers.set(id, worker);
    return { type: "joined", worker: { ...worker }, rejoined: false };
  }

  /**
   * Declares lost every alive worker silent for longer than the timeout. `listening` is false while the
   * master cannot read its workers' messages: heartbeats then wait in the sockets, so silence is not held
   * against anyone until the master listens again.
   */
  sweep(now: number, listening = true): WorkerChange[] {
    if (!listening) {
      this.#deafAt = now;
      return [];
    }
    const lost: WorkerChange[] = [];
    for (const worker of this.#workers.values()) {
      if (worker.state !== "alive") continue;
      if (now - Math.max(worker.lastSeen, this.#deafAt) <= this.#timeoutMs) continue;
      worker.state = "lost";
      worker.lostAt = now;
      lost.push({ type: "lost", worker: { ...worker } });
    }
    return lost;
  }

  /** Forgets the oldest lost worker; false if every worker remembered is alive. */
  #evict(): boolean {
    for (const [id, worker] of this.#workers) {
      if (worker.state === "lost") {
        this.#workers.delete(id);
        return true;
      }
    }
    return false;
  }

  /** Every worker heard of (alive and lost), oldest first. */
  list(): WorkerInfo[] {
    return [...this.#workers.values()].map((worker) => ({ ...worker }));
  }

  /** How many workers are alive. */
  get alive(): number {
    let count = 0;
    for (const worker of this.#workers.values()) if (worker.state === "alive") count++;
    return count;
  }
}
