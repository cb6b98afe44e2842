import type { HelloInfo, WorkerInfo } from "./deliveryTypes.js";
import type { PalmMessage } from "./types.js";

/** One message taken in and not answered yet. @internal */
export interface Entry {
  readonly id: string;
  readonly message: PalmMessage;
  readonly takenAt: number;
  /** The worker holding it (`PUSH_POOL` for pylm workers); undefined while it waits in the queue. */
  owner: string | undefined;
  /** Its dispatch sequence number at its owner. */
  seq: number;
  /** Hand-outs charged against `maxAttempts` (the current one included while a worker holds it). */
  attempts: number;
  sentAt: number;
  deadline: number;
  /** A worker was lost while it held this message: it runs alone from now on. */
  suspect: boolean;
  /**
   * A worker was lost holding it with other messages, a loss charged to none of them: it is charged to
   * this one if a worker running it alone is lost too.
   */
  sharedLoss: boolean;
}

/** One palm worker. `held` maps the ids it holds (answered or not by others) to their dispatch seq. @internal */
export interface Worker {
  readonly id: string;
  name: string;
  pid: number;
  host: string;
  prefetch: number;
  /** What it asked to hold now (`credit`), at most `prefetch`. */
  limit: number;
  timeouts: Readonly<Record<string, number>>;
  hasTimeouts: boolean;
  state: "alive" | "lost" | "left";
  readonly firstSeen: number;
  lastSeen: number;
  lostAt: number | undefined;
  rejoins: number;
  heartbeats: number;
  readonly held: Map<string, number>;
  nextSeq: number;
  /** In one synchronous call for at least `stuckAfterMs`: it gets nothing new. */
  stuck: boolean;
  /** The suspect it runs alone: it gets nothing else while it holds it. */
  alone: string | undefined;
  inspector?: string;
}

/** A new entry for a message taken in at `now`. @internal */
export function newEntry(id: string, message: PalmMessage, now: number, callTimeoutMs: number): Entry {
  return {
    id,
    message,
    takenAt: now,
    owner: undefined,
    seq: 0,
    attempts: 0,
    sentAt: now,
    deadline: now + callTimeoutMs,
    suspect: false,
    sharedLoss: false,
  };
}

/** A worker heard of for the first time, from its hello. @internal */
export function newWorker(hello: HelloInfo, now: number): Worker {
  const worker: Worker = {
    id: hello.id,
    name: hello.name,
    pid: hello.pid,
    host: hello.host,
    prefetch: hello.prefetch,
    limit: hello.prefetch,
    timeouts: {},
    hasTimeouts: false,
    state: "alive",
    firstSeen: now,
    lastSeen: now,
    lostAt: undefined,
    rejoins: 0,
    heartbeats: 0,
    held: new Map(),
    nextSeq: 1,
    stuck: false,
    alone: undefined,
  };
  greeted(worker, hello);
  return worker;
}

/** Takes what a (new or repeated) hello says into the worker's record. @internal */
export function greeted(worker: Worker, hello: HelloInfo): void {
  worker.name = hello.name;
  worker.pid = hello.pid;
  worker.host = hello.host;
  worker.prefetch = hello.prefetch;
  worker.limit = hello.prefetch;
  worker.timeouts = hello.timeouts ?? {};
  worker.hasTimeouts = Object.keys(worker.timeouts).length > 0;
  worker.state = "alive";
  worker.stuck = false;
}

/** The error text of an answer the master gives itself (`CODE: text`, which `RemoteError` reads its code from). @internal */
export const coded = (code: string, text: string) => `${code}: ${text}`;

/** The function a message names at its stage, without its server. @internal */
export function functionOf(message: PalmMessage): string {
  const entry =
    message.function.indexOf(" ") === -1
      ? message.function
      : (message.function.split(" ")[message.stage] ?? "");
  const dot = entry.indexOf(".");
  return dot === -1 ? "" : entry.slice(dot + 1);
}

/** What `master.workers()` shows of a worker. @internal */
export function info(worker: Worker): WorkerInfo {
  return {
    id: worker.id,
    name: worker.name,
    pid: worker.pid,
    host: worker.host,
    state: worker.state,
    firstSeen: worker.firstSeen,
    lastSeen: worker.lastSeen,
    lostAt: worker.lostAt,
    rejoins: worker.rejoins,
    heartbeats: worker.heartbeats,
    ...(worker.inspector !== undefined ? { inspector: worker.inspector } : {}),
  };
}
