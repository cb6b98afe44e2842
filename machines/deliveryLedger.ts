import { DeliveryQueue } from "./deliveryQueue.js";
import { coded, type Entry, functionOf, info, newEntry, type Worker } from "./deliveryRecords.js";
import { heard, Roster } from "./deliveryRoster.js";
import { Suspects } from "./deliverySuspects.js";
import {
  DELIVERY_DEFAULTS,
  type DeliveryCommand,
  type DeliveryOptions,
  type DeliveryParts,
  type DeliveryStats,
  type DispatchOrder,
  type LivenessEvent,
  NO_RESULT_SUFFIX,
  type RedeliveryReason,
  type WorkerInfo,
  type WorkerNews,
} from "./deliveryTypes.js";
import { SettledIds } from "./settledIds.js";
import type { PalmMessage } from "./types.js";

/** The id of the pool of PUSH peers (pylm workers, which neither say hello nor beat). */
export const PUSH_POOL = "~push";
/**
 * How long after a PUSH connection closed its messages are redelivered: libzmq reports the disconnect
 * before the PUSH socket has dropped the peer's queue, so a send in between still lands in that queue.
 */
const DISCONNECT_GRACE_MS = 50;

/**
 * A master's delivery ledger: every message taken in and not answered, which worker holds it, the
 * workers' credits and liveness, deadlines, and the result ids already passed on. Created once per
 * server and handed to each incarnation of the delivery actor, so a crash of the actor loses nothing.
 * Pure: time comes in as arguments; what to do comes out as commands.
 */
export class DeliveryLedger {
  readonly options: DeliveryOptions;
  readonly parts: DeliveryParts;
  readonly now: () => number;
  /** How often the actor sweeps for lost workers and passed deadlines. */
  readonly sweepMs: number;
  readonly #entries = new Map<string, Entry>();
  /** Ids waiting for a worker: handed back ones first, then round-robin by client (lazily cleaned). */
  readonly #queue = new DeliveryQueue();
  /** Messages a lost worker held, waiting to run alone. */
  readonly #suspects = new Suspects();
  readonly #workers: Roster;
  /** The PUSH pool: ids held, peers connected, and when a peer left (its messages go again soon). */
  readonly #pool = { held: new Set<string>(), peers: 0, leftAt: undefined as number | undefined };
  /** Result ids already passed on (or answered by the master itself): a later one is a duplicate. */
  readonly #settled: SettledIds;
  #lastSweep: number;
  /** The last time a sweep came late (the process was busy): silence counts from then. */
  #deafAt = Number.NEGATIVE_INFINITY;
  #holding = false;
  #draining = false;
  /** Rotates which of the workers with equal credit is served first. */
  #turn = 0;
  #out: DeliveryCommand[] = [];
  redelivered = 0;
  duplicates = 0;
  deadlines = 0;
  failed = 0;
  revoked = 0;
  /** Told of every call answered by a worker's result: the call's message and ms from intake (metrics). */
  onAnswered: ((message: PalmMessage, ms: number) => void) | undefined = undefined;

  constructor(parts: DeliveryParts, options: Partial<DeliveryOptions> = {}, now: () => number = Date.now) {
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...DELIVERY_DEFAULTS, ...given };
    this.parts = parts;
    this.now = now;
    this.sweepMs = Math.max(10, Math.min(250, Math.floor(this.options.workerTimeoutMs / 4)));
    this.#lastSweep = now();
    this.#settled = new SettledIds(this.options.settledLimit);
    this.#workers = new Roster(this.options);
  }

  /** Messages taken in and not answered. */
  get size(): number {
    return this.#entries.size;
  }

  /** Takes in clients' messages (each with its id): queued, then handed to workers with credit. */
  take(messages: readonly PalmMessage[]): DeliveryCommand[] {
    const now = this.now();
    for (const message of messages) {
      const id = message.id;
      // Without an id, or one seen already (the router hands a delivery again after the actor restarted).
      if (!id || this.#entries.has(id) || this.#settled.has(id)) continue;
      this.#entries.set(id, newEntry(id, message, now, this.options.callTimeoutMs));
      this.#queue.push(message.client, id);
    }
    this.#pump(now);
    this.#checkHold();
    return this.#flush();
  }

  /** Takes results from a palm worker (`worker`) or from the worker PULL (undefined: pylm workers). */
  results(worker: string | undefined, results: readonly PalmMessage[]): DeliveryCommand[] {
    const now = this.now();
    const from = worker === undefined ? undefined : this.#workers.get(worker);
    if (from) heard(from, now);
    const passed: PalmMessage[] = [];
    for (const result of results) {
      const id = result.id;
      if (!id) {
        passed.push(result);
        continue;
      }
      const key = this.#entryKey(id);
      // Credit comes back only to the worker that holds the id, whoever holds the entry now.
      if (from) from.held.delete(key);
      else if (worker === undefined) this.#pool.held.delete(key);
      if (this.#settled.has(id)) {
        this.duplicates++;
        continue;
      }
      const entry = this.#entries.get(key);
      // Past its deadline (the sweep has not come round yet): the caller gets the deadline's answer.
      if (entry && entry.deadline <= now) {
        passed.push(this.#timedOut(entry, now));
        this.deadlines++;
        this.#event({ type: "calls.timedOut", count: 1 });
        continue;
      }
      this.#settled.add(id);
      if (entry) {
        this.#entries.delete(key);
        if (this.onAnswered) this.onAnswered(entry.message, now - entry.takenAt);
      }
      // Settled with no result to pass on (a mux call that yielded nothing).
      if (id.endsWith(NO_RESULT_SUFFIX)) continue;
      passed.push(result);
    }
    if (passed.length > 0) this.#route(this.parts.results, passed);
    this.#pump(now);
    this.#checkHold();
    return this.#flush();
  }

  /** Takes what the Dispatch part (or the worker PUSH) reports about workers. */
  news(news: WorkerNews): DeliveryCommand[] {
    const now = this.now();
    switch (news.type) {
      case "hello": {
        const joining = this.#workers.hello(news.hello, now);
        if (!joining) break;
        // Registered: its start may end (sent before any work, which the pump may add next).
        this.#order({ type: "welcome", worker: joining.worker.id });
        if (joining.joined)
          this.#event({ type: "worker.joined", worker: info(joining.worker), rejoined: joining.rejoined });
        break;
      }
      case "results":
        break;
      case "beat": {
        const stuckAt = this.#workers.beat(news.worker, news.busy, now);
        // A beat from an id never announced, or declared lost, touches nothing: asked who it is.
        if (stuckAt === "who") this.#order({ type: "who", worker: news.worker });
        else if (stuckAt !== undefined) this.#revoke(this.#workers.get(news.worker)!, stuckAt, now);
        break;
      }
      case "credit": {
        const worker = this.#workers.get(news.worker);
        if (worker?.state === "alive") worker.limit = Math.min(news.prefetch, worker.prefetch);
        break;
      }
      case "bye":
      case "gone": {
        const worker = this.#workers.gone(news.worker, news.type === "bye" ? "left" : "lost", now);
        if (!worker) break;
        if (worker.state === "lost") this.#event({ type: "worker.lost", worker: info(worker) });
        this.#release(worker, "worker.left", now, news.type === "gone");
        break;
      }
      case "peers":
        this.#pool.peers = news.connected;
        if (news.left && this.#pool.held.size > 0) this.#pool.leftAt ??= now;
        break;
    }
    this.#pump(now);
    this.#checkHold();
    return this.#flush();
  }

  /** One sweep: lost workers, passed deadlines, the PUSH pool's redeliveries, calls with no worker. */
  sweep(): DeliveryCommand[] {
    const now = this.now();
    // A late sweep means the process was busy: heartbeats may be waiting unread, so nobody is judged now.
    const onTime = now - this.#lastSweep < this.sweepMs * 4 + 100;
    this.#lastSweep = now;
    if (!onTime) this.#deafAt = now;
    else
      for (const worker of this.#workers.silent(now, this.#deafAt)) {
        this.#event({ type: "worker.lost", worker: info(worker) });
        this.#release(worker, "worker.lost", now, true);
      }
    this.#expire(now);
    const pool = this.#pool;
    if (pool.leftAt !== undefined && now - pool.leftAt >= DISCONNECT_GRACE_MS) {
      pool.leftAt = undefined;
      this.#releasePool("peer.disconnected", now, now);
    } else if (pool.held.size > 0) {
      this.#releasePool("timeout", now - this.options.redeliverAfterMs, now);
    }
    this.#noWorkers(now);
    this.#pump(now);
    this.#checkHold();
    return this.#flush();
  }

  /** Stops taking new messages in (the server stops): the intake stays held. */
  drain(): DeliveryCommand[] {
    this.#draining = true;
    this.#checkHold();
    return this.#flush();
  }

  /** Every palm worker heard of (alive, lost or gone), oldest first. */
  workers(): WorkerInfo[] {
    return this.#workers.infos();
  }

  /** The counters the inspector shows. */
  stats(): DeliveryStats {
    const workers: Record<string, { held: number; credit: number; state: string }> = {};
    for (const worker of this.#workers.values()) {
      if (worker.state === "alive" || worker.held.size > 0)
        workers[worker.id] = {
          held: worker.held.size,
          credit: this.#workers.credit(worker),
          state: worker.state,
        };
    }
    const pool = this.#pool;
    if (pool.peers > 0 || pool.held.size > 0)
      workers[PUSH_POOL] = { held: pool.held.size, credit: this.#poolCredit(), state: `${pool.peers} peers` };
    return {
      inFlight: this.#entries.size,
      queued: this.#queue.length,
      suspects: this.#suspects.waiting,
      clients: this.#queue.clients,
      workers,
      redelivered: this.redelivered,
      duplicates: this.duplicates,
      deadlines: this.deadlines,
      failed: this.failed,
      revoked: this.revoked,
    };
  }

  /** The inspector serialises the actor's context: it sees the counters, not the maps. */
  toJSON(): DeliveryStats {
    return this.stats();
  }

  /** A stuck worker's messages after the one it runs were not started: they go to others. */
  #revoke(worker: Worker, busySeq: number, now: number): void {
    const seqs: number[] = [];
    const back: Entry[] = [];
    for (const [id, seq] of worker.held) {
      if (seq <= busySeq) continue;
      const entry = this.#entries.get(id);
      worker.held.delete(id);
      seqs.push(seq);
      if (!entry || entry.owner !== worker.id) continue;
      // Not started: the attempt does not count.
      entry.attempts--;
      back.push(entry);
    }
    this.#requeue(back, now);
    if (seqs.length === 0) return;
    this.revoked += seqs.length;
    this.#order({ type: "revoke", worker: worker.id, seqs });
    this.#event({ type: "messages.redelivered", reason: "worker.stuck", count: seqs.length, failed: 0 });
  }

  /**
   * A worker lost or gone: exactly the messages it held go to others (or fail past `maxAttempts`). One
   * that crashed (`crashed`) holding one message is charged for it; holding several, for none of them:
   * they run alone from now on (suspects). One that said goodbye had not started them: nothing is charged.
   */
  #release(worker: Worker, reason: RedeliveryReason, now: number, crashed: boolean): void {
    const entries: Entry[] = [];
    for (const id of worker.held.keys()) {
      const entry = this.#entries.get(id);
      if (entry && entry.owner === worker.id) entries.push(entry);
    }
    worker.held.clear();
    worker.stuck = false;
    worker.alone = undefined;
    if (crashed && entries.length === 1) {
      const entry = entries[0]!;
      // Lost alone after it was lost with others: the earlier loss is most likely its doing too.
      if (entry.sharedLoss) entry.attempts++;
      entry.sharedLoss = false;
      this.#redeliver(entries, reason, now, true);
      return;
    }
    for (const entry of entries) {
      entry.attempts--;
      if (crashed) {
        entry.sharedLoss = true;
        this.#unowned(entry, now);
      }
    }
    if (crashed) this.#suspects.add(entries);
    else this.#requeue(entries, now);
    this.redelivered += entries.length;
    if (entries.length > 0)
      this.#event({ type: "messages.redelivered", reason, count: entries.length, failed: 0 });
  }

  #releasePool(reason: RedeliveryReason, sentBefore: number, now: number): void {
    const pool = this.#pool;
    const entries: Entry[] = [];
    for (const id of pool.held) {
      const entry = this.#entries.get(id);
      if (!entry || entry.owner !== PUSH_POOL) {
        pool.held.delete(id);
        continue;
      }
      if (entry.sentAt <= sentBefore) {
        entries.push(entry);
        pool.held.delete(id);
      }
    }
    this.#redeliver(entries, reason, now, false);
  }

  /** Entries whose hand-out is charged: they fail at `maxAttempts`, else go out again (alone if `isolate`). */
  #redeliver(entries: Entry[], reason: RedeliveryReason, now: number, isolate: boolean): void {
    if (entries.length === 0) return;
    const failed: PalmMessage[] = [];
    const again: Entry[] = [];
    for (const entry of entries) {
      if (entry.attempts >= this.options.maxAttempts) failed.push(this.#exhausted(entry, reason));
      else again.push(entry);
    }
    if (isolate) {
      for (const entry of again) this.#unowned(entry, now);
      this.#suspects.add(again);
    } else this.#requeue(again, now);
    this.redelivered += again.length;
    if (failed.length > 0) this.#route(this.parts.results, failed);
    this.#event({ type: "messages.redelivered", reason, count: again.length, failed: failed.length });
  }

  /** Answers an entry that used up `maxAttempts` with an error naming them. */
  #exhausted(entry: Entry, reason: RedeliveryReason): PalmMessage {
    this.failed++;
    const n = entry.attempts;
    return this.#answer(
      entry,
      entry.suspect
        ? `no result after ${n} attempts: the workers running it were lost, the last one while it ran alone (${reason})`
        : `no result after ${n} attempts: the workers holding it were lost or did not answer (${reason})`,
    );
  }

  #unowned(entry: Entry, now: number): void {
    entry.owner = undefined;
    entry.sentAt = now;
  }

  /** Puts entries back at the head of the queue, in their order: they waited longest (suspects: alone). */
  #requeue(entries: Entry[], now: number): void {
    if (entries.length === 0) return;
    const ids: string[] = [];
    const suspects: Entry[] = [];
    for (const entry of entries) {
      this.#unowned(entry, now);
      if (entry.suspect) suspects.push(entry);
      else ids.push(entry.id);
    }
    this.#queue.pushFront(ids);
    if (suspects.length > 0) this.#suspects.add(suspects);
  }

  /** Forgets an entry answered by the master itself; a result that still comes for it is a duplicate. */
  #answer(entry: Entry, error: string): PalmMessage {
    this.#entries.delete(entry.id);
    this.#settled.add(entry.id);
    return { ...entry.message, payload: new Uint8Array(0), error };
  }

  /** Calls past their deadline are answered at once; their worker's credit comes back when it answers. */
  #expire(now: number): void {
    const late: PalmMessage[] = [];
    for (const entry of this.#entries.values())
      if (entry.deadline <= now) late.push(this.#timedOut(entry, now));
    if (late.length === 0) return;
    this.deadlines += late.length;
    this.#route(this.parts.results, late);
    this.#event({ type: "calls.timedOut", count: late.length });
  }

  #timedOut(entry: Entry, now: number): PalmMessage {
    const where = entry.owner === undefined ? "no worker took it" : "a worker holds it";
    return this.#answer(
      entry,
      coded("PALM_ERR_TIMEOUT", `no result within ${now - entry.takenAt} ms (${where})`),
    );
  }

  /** Calls that found no worker at all (no palm worker alive, no PUSH peer) for `noWorkerTimeoutMs`. */
  #noWorkers(now: number): void {
    if (this.#pool.peers > 0 || this.#queue.length + this.#suspects.waiting === 0) return;
    if (this.#workers.anyAlive()) return;
    const failed: PalmMessage[] = [];
    const check = (entry: Entry | undefined) => {
      if (!entry || entry.owner !== undefined || now - entry.takenAt < this.options.noWorkerTimeoutMs) return;
      failed.push(
        this.#answer(
          entry,
          coded("PALM_ERR_NO_WORKERS", `no worker connected for ${now - entry.takenAt} ms`),
        ),
      );
    };
    this.#queue.forEach((id) => {
      check(this.#entries.get(id));
    });
    this.#suspects.forEach((entry) => {
      if (this.#waitingSuspect(entry)) check(entry);
    });
    if (failed.length === 0) return;
    this.failed += failed.length;
    this.#route(this.parts.results, failed);
  }

  #poolCredit(): number {
    return Math.max(0, this.#pool.peers * this.options.pushPrefetch - this.#pool.held.size);
  }

  /** A suspect that still waits for a worker (not answered, not handed out since it was queued). */
  readonly #waitingSuspect = (entry: Entry): boolean =>
    entry.owner === undefined && this.#entries.get(entry.id) === entry;

  /**
   * Hands waiting suspects to free workers, alone; returns the workers kept free for those left (they get
   * no new work). With no palm worker alive but PUSH peers, suspects are handed out as any message.
   */
  #isolate(now: number): Set<Worker> | undefined {
    const free: Worker[] = [];
    let alive = 0;
    for (const worker of this.#workers.values()) {
      if (worker.state === "alive") alive++;
      if (this.#workers.credit(worker) > 0) free.push(worker);
    }
    // No palm worker but pylm ones (which cannot be told apart): suspects go to them as any message.
    if (alive === 0 && this.#pool.peers > 0) {
      this.#queue.pushFront(this.#suspects.drain(this.#waitingSuspect).map((entry) => entry.id));
      return undefined;
    }
    return this.#suspects.assign(free, this.#waitingSuspect, (worker, entry) => {
      worker.alone = entry.id;
      this.#send(worker, [this.#handOut(entry, worker, now)], now);
    });
  }

  /** Marks an entry as handed to `worker` (one more attempt) and returns it. */
  #handOut(entry: Entry, worker: Worker, now: number): Entry {
    entry.attempts++;
    entry.sentAt = now;
    entry.owner = worker.id;
    entry.seq = worker.nextSeq++;
    // The function's name is read only for a worker that declared deadlines (none, mostly).
    const fnTimeout = worker.hasTimeouts ? worker.timeouts[functionOf(entry.message)] : undefined;
    if (fnTimeout !== undefined) entry.deadline = entry.takenAt + fnTimeout;
    worker.held.set(entry.id, entry.seq);
    return entry;
  }

  /** One frame of work for a worker: its messages, numbered from the first one's seq, with their deadlines. */
  #send(worker: Worker, batch: Entry[], now: number): void {
    const order: DispatchOrder = {
      type: "work",
      worker: worker.id,
      seq: batch[0]!.seq,
      deadlines: batch.map((entry) => Math.max(1, entry.deadline - now)),
    };
    this.#out.push({
      type: "route",
      to: this.parts.dispatch,
      messages: batch.map((entry) => entry.message),
      envelope: order,
    });
  }

  /**
   * Hands queued messages to workers with credit: suspects first, each alone; then palm workers, most
   * credit first; then the PUSH pool. Workers kept free for suspects get nothing new.
   */
  #pump(now: number): void {
    const keepFree = this.#suspects.waiting > 0 ? this.#isolate(now) : undefined;
    if (this.#queue.length === 0) return;
    const credits: Array<{ worker: Worker; credit: number; batch: Entry[] }> = [];
    for (const worker of this.#workers.values()) {
      const credit = this.#workers.credit(worker);
      if (credit > 0 && !keepFree?.has(worker)) credits.push({ worker, credit, batch: [] });
    }
    // Ties go round: workers with equal credit (a trickle of messages, each answered before the next)
    // take turns instead of the first one taking all.
    if (credits.length > 1) {
      const turn = this.#turn++ % credits.length;
      if (turn > 0) credits.push(...credits.splice(0, turn));
    }
    let poolCredit = this.#poolCredit();
    const pool: Entry[] = [];
    while (this.#queue.length > 0) {
      let best: (typeof credits)[number] | undefined;
      for (const candidate of credits) if (candidate.credit > (best?.credit ?? 0)) best = candidate;
      if (!best && poolCredit === 0) break;
      const entry = this.#entries.get(this.#queue.shift()!);
      // Answered meanwhile, or already handed out again.
      if (!entry || entry.owner !== undefined) continue;
      if (best) {
        best.credit--;
        best.batch.push(this.#handOut(entry, best.worker, now));
      } else {
        poolCredit--;
        entry.attempts++;
        entry.sentAt = now;
        entry.owner = PUSH_POOL;
        this.#pool.held.add(entry.id);
        pool.push(entry);
      }
    }
    for (const { worker, batch } of credits) if (batch.length > 0) this.#send(worker, batch, now);
    if (pool.length > 0)
      this.#route(
        this.parts.push,
        pool.map((entry) => entry.message),
      );
  }

  #checkHold(): void {
    const size = this.#entries.size;
    const max = this.options.maxInFlight;
    const high = this.#draining || (this.#holding ? size > Math.floor(max * 0.9) : size >= max);
    if (high === this.#holding) return;
    this.#holding = high;
    this.#out.push({ type: "hold", high });
  }

  /** The entry a result id settles: the id itself, or its prefix at a `/` (one message, several results). */
  #entryKey(id: string): string {
    if (this.#entries.has(id) || id.indexOf("/") === -1) return id;
    let key = id;
    for (;;) {
      const cut = key.lastIndexOf("/");
      if (cut === -1) return id;
      key = key.slice(0, cut);
      if (this.#entries.has(key)) return key;
    }
  }

  #route(to: string, messages: PalmMessage[]): void {
    if (messages.length > 0) this.#out.push({ type: "route", to, messages });
  }

  #order(order: DispatchOrder): void {
    this.#out.push({ type: "route", to: this.parts.dispatch, messages: [], envelope: order });
  }

  #event(event: LivenessEvent): void {
    this.#out.push({ type: "event", event });
  }

  #flush(): DeliveryCommand[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }
}
