import { hostname } from "node:os";
import { type Actor, createActor } from "xstate";
import { NO_RESULT_SUFFIX } from "../../machines/deliveryTypes.js";
import { workerJoinEvents, workerJoinMachine } from "../../machines/workerJoin.js";
import { frameChunks } from "../bridges/frameChunks.js";
import type { Codec } from "../codec/codec.js";
import {
  DISPATCH_VERSION,
  decodeRevoke,
  decodeWorkHeader,
  dispatchTags,
  encodeCredit,
  encodeHello,
  readTag,
} from "../dispatch/protocol.js";
import { PalmError, remoteErrorText } from "../errors.js";
import type { PeerEvent } from "../liveness/peerCount.js";
import { failedMessage, type PalmMessage } from "../message.js";
import type { BusyBoard } from "./busyBoard.js";
import { DeadlineContext } from "./callContext.js";
import { TRY_WAIT_MS } from "./discovery.js";
import { limitResultSize } from "./oversized.js";

/** How the runner sends on the worker's DEALER (the dispatch part's socket, while that part runs). */
export interface DispatchLink {
  send(frames: Buffer[]): Promise<void>;
  /** Connects the socket to `to` instead of `from` (the master came back at another address). */
  moveTo(from: string, to: string): void;
}

/** Runs the function a message names (the worker's function runner). */
export type RunMessage = (
  message: PalmMessage,
  context: DeadlineContext,
) => PalmMessage[] | Promise<PalmMessage[]>;

/** What a `DispatchRunner` is set up with. */
export interface DispatchRunnerOptions {
  readonly id: string;
  /** The master's dispatch address (where the worker's DEALER connects). */
  readonly address: string;
  /** Told about the DEALER's connection to the master (established, lost). */
  readonly onPeer?: (event: PeerEvent) => void;
  readonly name: string;
  readonly prefetch: number;
  readonly heartbeatMs: number;
  readonly timeouts?: Readonly<Record<string, number>>;
  readonly codec: Codec;
  readonly maxMessageSize: number;
  readonly run: RunMessage;
  /** Where the main thread publishes the synchronous call it is inside (for the heartbeat thread). */
  readonly board?: BusyBoard;
}

/** What one received multipart message amounted to. */
export type Received =
  | { readonly kind: "work"; readonly messages: PalmMessage[] }
  | { readonly kind: "control" }
  | { readonly kind: "bad"; readonly reason: string };

/** A message handed to this worker and not started yet. */
interface Held {
  readonly seq: number;
  readonly message: PalmMessage;
  /** `Date.now()` at its deadline; 0 for none. */
  readonly deadlineAt: number;
}

/** At most this many results go into one `results` frame (and about `MAX_FRAME_BYTES` of payload). */
const MAX_FRAME_RESULTS = 256;
const EMPTY = new Uint8Array(0);
/**
 * A turn of the event loop runs messages for at most about this long (and at most half the worker's
 * credit) before it yields, so the socket is read and revokes are seen between messages: quick messages
 * share a turn and their results a frame (one ZeroMQ send per message would cost several times the
 * message itself), and a long call has its turn to itself.
 */
const TURN_MS = 1;
/**
 * A turn with results waiting ends after this long (its results go to the socket) before the next message
 * starts: should that one be a long synchronous call, it holds back only its own result, not the results
 * of the quick messages before it. Quick messages still share a turn and a frame.
 */
const HAND_OVER_MS = 0.25;

/** The error result of an async call still running at its deadline (the caller was answered already). */
const ABANDONED = remoteErrorText(
  "PALM_ERR_TIMEOUT",
  "the call ran past its deadline: its result is dropped",
);

/**
 * A worker asks to hold about this much work (ms of its synchronous calls, as measured) rather than its
 * whole `prefetch`: enough to stay busy while results and new work cross the network, little enough that
 * a slow worker does not sit on messages the others could run (the job's tail).
 */
const HOLD_MS = 100;
/** It never asks for fewer than this: the next message is there when one ends. */
const MIN_CREDIT = 2;
/** It tells the master a new credit at most this often. */
const CREDIT_EVERY_MS = 100;

/**
 * A call's results, or, for a call that produced none (a `MuxWorker` function that yielded nothing), the
 * marker that tells the master it ended: else the message would hold its credit until its deadline, and
 * `prefetch` of them would leave the worker with none.
 */
function answered(message: PalmMessage, results: PalmMessage[]): PalmMessage[] {
  if (results.length > 0 || message.id === undefined) return results;
  return [{ ...message, payload: EMPTY, id: `${message.id}${NO_RESULT_SUFFIX}`, error: undefined }];
}

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * A palm worker's side of the dispatch protocol (see `src/dispatch/protocol.ts`): it keeps the messages the
 * master handed it, runs them in dispatch order one per turn of the event loop (so the socket is read and
 * revokes are seen between them; async calls overlap), and sends the results of a turn in one frame. It
 * outlives restarts of the dispatch part: a restarted part attaches again and re-announces what it holds.
 */
export class DispatchRunner {
  #inspector: string | undefined;
  readonly #options: DispatchRunnerOptions;
  readonly #host = hostname();
  #link: DispatchLink | undefined;
  #address: string;
  /** The connection to the master was lost since the last hello. */
  #lost = false;
  #pending: Held[] = [];
  #head = 0;
  /** Async calls under way: dispatch seq → message id. */
  readonly #running = new Map<number, string | undefined>();
  #out: PalmMessage[] = [];
  #sending = false;
  /** The next turn, when one is scheduled. */
  #immediate: NodeJS.Immediate | undefined;
  /** Work came in since the last turn (see `afterBatch`). */
  #due = false;
  /** The turn running now was started by `afterBatch`, inside the socket's read loop. */
  #inRead = false;
  #stopping = false;
  #settledWaiters: Array<() => void> = [];
  /** The master's `welcome`: settled once it registered this worker (or the worker stopped first). */
  readonly #welcome: Promise<void>;
  /** How the worker joins its master: hellos again until welcomed (see `workerJoinMachine`). */
  readonly #join: Actor<typeof workerJoinMachine>;
  /** Messages handed, started, revoked before they started; results sent. */
  readonly counts = { handed: 0, started: 0, revoked: 0, results: 0 };

  readonly #turnMessages: number;
  /** Synchronous time per call (ms), a moving average; 0 until the first call. */
  #callMs = 0;
  /** The credit last asked for (the hello asks for `prefetch`) and when. */
  #credit: number;
  #creditAt = 0;

  constructor(options: DispatchRunnerOptions) {
    this.#options = options;
    this.#address = options.address;
    let resolve = (): void => undefined;
    let reject = (_error: Error): void => undefined;
    this.#welcome = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    const machine = workerJoinMachine.provide({
      actions: {
        sayHello: () => {
          this.#link?.send(this.hello()).catch(() => undefined);
        },
        welcomed: () => resolve(),
        abandoned: () => {
          this.#welcome.catch(() => undefined);
          reject(
            new PalmError("PALM_ERR_SERVER_STOPPED", "The worker was stopped before its master welcomed it"),
          );
        },
      },
    });
    this.#join = createActor(machine, { input: { waitsMs: TRY_WAIT_MS } }).start();
    // Half the credit per turn: the results of one half go back (and the master refills) while the other
    // half runs, so a busy worker does not wait for work; fewer, fuller frames cost both sides less.
    this.#turnMessages = Math.max(1, Math.floor(options.prefetch / 2));
    this.#credit = options.prefetch;
  }

  get id(): string {
    return this.#options.id;
  }

  /** The master's dispatch address now. */
  get address(): string {
    return this.#address;
  }

  /**
   * Takes the DEALER's connection events: once a lost connection is back (the master restarted), the
   * worker announces itself again at once instead of waiting for the master's `who`.
   */
  peer(event: PeerEvent): void {
    if (event === "disconnect") this.#lost = true;
    else if (event === "handshake" && this.#lost && !this.#stopping) {
      this.#lost = false;
      this.#link?.send(this.hello()).catch(() => undefined);
    }
    this.#options.onPeer?.(event);
  }

  /** Follows the master to a new dispatch address. */
  moveTo(address: string): void {
    const from = this.#address;
    this.#address = address;
    this.#link?.moveTo(from, address);
  }

  /** Ids of the messages this worker holds: not started yet, or running. */
  holding(): string[] {
    const ids: string[] = [];
    for (let i = this.#head; i < this.#pending.length; i++) {
      const id = this.#pending[i]!.message.id;
      if (id !== undefined) ids.push(id);
    }
    for (const id of this.#running.values()) if (id !== undefined) ids.push(id);
    return ids;
  }

  /** Says this worker's inspector URL in a hello now (the inspector listens once the worker started) and later. */
  announceInspector(url: string): void {
    this.#inspector = url;
    this.#link?.send(this.hello()).catch(() => undefined);
  }

  /** A `hello` frame pair announcing this worker (and, after the first, what it still holds). */
  hello(): Buffer[] {
    const { id, name, prefetch, heartbeatMs, timeouts } = this.#options;
    const holding = this.holding();
    // A hello resets the master's view of this worker's credit to its prefetch.
    this.#credit = prefetch;
    this.#creditAt = 0;
    return [
      dispatchTags.hello,
      encodeHello({
        v: DISPATCH_VERSION,
        id,
        name,
        pid: process.pid,
        host: this.#host,
        prefetch,
        heartbeatMs,
        ...(timeouts && Object.keys(timeouts).length > 0 ? { timeouts } : {}),
        ...(holding.length > 0 ? { holding } : {}),
        ...(this.#inspector !== undefined ? { inspector: this.#inspector } : {}),
      }),
    ];
  }

  /**
   * Resolves once the master has registered this worker (its `welcome`): from then on the master hands it
   * work. Rejects with `PALM_ERR_SERVER_STOPPED` if the worker leaves first.
   */
  welcomed(): Promise<void> {
    return this.#welcome;
  }

  /** Where the worker's join is (`detached`, `greeting`, `welcomed` or `stopped`) and its hellos said again. */
  get join(): { readonly state: string; readonly retries: number } {
    const { value, context } = this.#join.getSnapshot();
    return { state: value as string, retries: context.retries };
  }

  /** The dispatch part's socket is ready: announce this worker and send what waited for it. */
  attach(link: DispatchLink): Promise<void> {
    this.#link = link;
    const hello = link.send(this.hello());
    if (!this.#stopping) this.#join.send(workerJoinEvents.attached());
    this.#flush();
    return hello;
  }

  /** The dispatch part stopped (or crashed): results wait for the next `attach`. */
  detach(link: DispatchLink): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    if (!this.#stopping) this.#join.send(workerJoinEvents.detached());
  }

  /** Takes one multipart message from the master. Never throws: what it cannot read is `bad`. */
  receive(frames: Buffer[]): Received {
    const tag = readTag(frames[0]);
    switch (tag) {
      case "work":
        return this.#work(frames);
      case "revoke": {
        const revoke = frames.length === 2 ? decodeRevoke(frames[1]) : undefined;
        if (!revoke) return { kind: "bad", reason: "malformed revoke" };
        this.#revoke(revoke.seqs);
        return { kind: "control" };
      }
      case "welcome":
        if (!this.#stopping) this.#join.send(workerJoinEvents.welcome());
        return { kind: "control" };
      case "who":
        // A worker that is leaving (its `bye` sent or on its way) does not announce itself again.
        if (!this.#stopping) this.#join.send(workerJoinEvents.who());
        return { kind: "control" };
      default:
        return { kind: "bad", reason: tag ? `unexpected "${tag}" from the master` : "unknown tag" };
    }
  }

  #work(frames: Buffer[]): Received {
    const header = frames.length === 3 ? decodeWorkHeader(frames[1]) : undefined;
    if (!header) return { kind: "bad", reason: "malformed work header" };
    let messages: PalmMessage[];
    try {
      messages = this.#options.codec.decode(frames[2]!);
    } catch (error) {
      return { kind: "bad", reason: error instanceof Error ? error.message : String(error) };
    }
    // A worker that is leaving runs nothing new: its `bye` makes the master hand these to another worker.
    if (this.#stopping) return { kind: "work", messages };
    const now = Date.now();
    for (let k = 0; k < messages.length; k++) {
      const left = header.deadlines[k] ?? 0;
      this.#pending.push({
        seq: header.seq + k,
        message: messages[k]!,
        deadlineAt: left > 0 ? now + left : 0,
      });
    }
    this.counts.handed += messages.length;
    this.#due = true;
    return { kind: "work", messages };
  }

  #revoke(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const revoked = new Set(seqs);
    const kept: Held[] = [];
    for (let i = this.#head; i < this.#pending.length; i++) {
      const held = this.#pending[i]!;
      if (revoked.has(held.seq)) this.counts.revoked++;
      else kept.push(held);
    }
    this.#pending = kept;
    this.#head = 0;
  }

  /**
   * Called once the socket's batch has been read (`receive` for each multipart message): the work it
   * brought starts now, in this turn of the event loop, when no turn is scheduled already, so a lone
   * message's result goes out before anything else runs. A busy runner (a turn scheduled, because the
   * last one ended with messages left) keeps its order: the new work waits for that turn.
   */
  afterBatch(): void {
    if (!this.#due) return;
    this.#due = false;
    if (this.#immediate !== undefined) return;
    this.#inRead = true;
    try {
      this.#tick();
    } finally {
      this.#inRead = false;
    }
  }

  #schedule(): void {
    if (this.#immediate !== undefined) return;
    this.#immediate = setImmediate(this.#inRead ? this.#readThenTick : this.#tick);
  }

  /**
   * The turn after one run inside the read loop waits one round more: the loop, back from the batch,
   * reads the socket first (at once, or after its own `setImmediate` when it has read for a while), so a
   * revoke sent during a long call is seen before the next message starts.
   */
  readonly #readThenTick = (): void => {
    this.#immediate = setImmediate(this.#tick);
  };

  /**
   * One turn: start messages in dispatch order until the turn has run `TURN_MS` (`HAND_OVER_MS` once
   * results wait) or half the credit (a long synchronous call ends its turn by itself), then send every
   * result finished since the last turn.
   */
  readonly #tick = (): void => {
    this.#immediate = undefined;
    const turnStarted = performance.now();
    let ran = 0;
    while (!this.#stopping && this.#head < this.#pending.length) {
      if (ran > 0) {
        if (ran >= this.#turnMessages) break;
        const elapsed = performance.now() - turnStarted;
        // Results waiting: they go out (the turn ends) before the next call, which may be a long one.
        if (elapsed >= TURN_MS || (elapsed >= HAND_OVER_MS && this.#out.length > 0)) break;
      }
      const held = this.#pending[this.#head++]!;
      if (this.#head === this.#pending.length) {
        this.#pending = [];
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#pending.length) {
        this.#pending = this.#pending.slice(this.#head);
        this.#head = 0;
      }
      this.#start(held);
      ran++;
    }
    this.#flush();
    this.#askCredit();
    if (!this.#stopping && this.#head < this.#pending.length) this.#schedule();
  };

  /**
   * Tells the master how much work to hold now, when that changed by a quarter or more since it was told,
   * or reached the prefetch or the minimum.
   */
  #askCredit(): void {
    const link = this.#link;
    if (!link || this.#callMs === 0 || this.#stopping) return;
    const want = Math.max(MIN_CREDIT, Math.min(this.#options.prefetch, Math.ceil(HOLD_MS / this.#callMs)));
    const told = this.#credit;
    // A change of less than a quarter is not worth a message, except back to the prefetch itself (or the
    // minimum): a worker whose calls became quick would otherwise stay just below its prefetch for good.
    const bound = want === this.#options.prefetch || want === MIN_CREDIT;
    if (want === told || (!bound && want > told * 0.75 && want < told * 1.25)) return;
    const now = performance.now();
    if (now - this.#creditAt < CREDIT_EVERY_MS) return;
    this.#credit = want;
    this.#creditAt = now;
    link.send([dispatchTags.credit, encodeCredit({ prefetch: want })]).catch(() => undefined);
  }

  #start(held: Held): void {
    const { seq, message, deadlineAt } = held;
    this.counts.started++;
    if (deadlineAt > 0 && Date.now() >= deadlineAt) {
      // Its caller has had its timeout already: running it would only delay the messages behind it.
      this.#push([
        failedMessage(
          message,
          remoteErrorText("PALM_ERR_TIMEOUT", "the call's deadline passed before it started"),
        ),
      ]);
      return;
    }
    const context = new DeadlineContext(deadlineAt);
    const board = this.#options.board;
    board?.enter(seq);
    let results: PalmMessage[] | Promise<PalmMessage[]>;
    const startedAt = performance.now();
    try {
      results = this.#options.run(message, context);
    } finally {
      board?.leave();
      const ms = performance.now() - startedAt;
      this.#callMs = this.#callMs === 0 ? ms : this.#callMs + (ms - this.#callMs) * 0.125;
    }
    if (!isPromise<PalmMessage[]>(results)) {
      context.dispose();
      this.#push(answered(message, results));
      return;
    }
    this.#running.set(seq, message.id);
    let ended = false;
    const end = (settled: PalmMessage[]) => {
      if (ended) return;
      ended = true;
      context.dispose();
      this.#push(answered(message, settled));
      this.#running.delete(seq);
      this.#schedule();
    };
    // A call that never settles would hold its credit for good (a worker with `prefetch` of them would take
    // no work at all): soon after its deadline (`ABANDON_AFTER_MS`), the timer that aborted its signal
    // answers it and frees its place; whatever it returns later is dropped.
    if (deadlineAt > 0) context.watch(() => end([failedMessage(message, ABANDONED)]));
    results.then(end, (error) => end([failedMessage(message, String(error))]));
  }

  #push(results: PalmMessage[]): void {
    const { codec, maxMessageSize } = this.#options;
    for (const result of limitResultSize(results, codec, maxMessageSize)) this.#out.push(result);
  }

  /** Sends what results wait, one frame after the other; results finished meanwhile go in the next. */
  #flush(): void {
    const link = this.#link;
    if (this.#sending || this.#out.length === 0 || !link) {
      if (this.#out.length === 0 && !this.#sending) this.#wakeSettled();
      return;
    }
    const batch = this.#out;
    this.#out = [];
    this.#sending = true;
    this.#send(link, batch).then(
      () => {
        this.counts.results += batch.length;
        this.#sending = false;
        this.#flush();
      },
      () => {
        // The part's socket went away mid-send: these go out again once a part attaches.
        this.#out = batch.concat(this.#out);
        this.#sending = false;
        if (this.#link === link) this.#link = undefined;
      },
    );
  }

  async #send(link: DispatchLink, batch: PalmMessage[]): Promise<void> {
    const { codec } = this.#options;
    for (const chunk of frameChunks(batch, MAX_FRAME_RESULTS)) {
      for (const frame of codec.encode(chunk)) await link.send([dispatchTags.results, frame]);
    }
  }

  #wakeSettled(): void {
    if (this.#running.size > 0 || this.#settledWaiters.length === 0) return;
    const waiters = this.#settledWaiters;
    this.#settledWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Stops waiting for the master's `welcome` (the worker stops): `welcomed()` rejects; nothing new starts. */
  abandon(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#join.send(workerJoinEvents.stop());
    this.#join.stop();
  }

  /**
   * Leaves: starts nothing more, waits (at most `waitMs`) for the calls under way and their results to go
   * out, then says `bye`, so the master hands what this worker did not start to others at once.
   */
  async leave(waitMs: number): Promise<void> {
    this.abandon();
    this.#pending = [];
    this.#head = 0;
    let timer: NodeJS.Timeout | undefined;
    const settled = new Promise<void>((resolve) => {
      this.#settledWaiters.push(resolve);
      timer = setTimeout(resolve, waitMs);
    });
    this.#flush();
    this.#wakeSettled();
    await settled;
    clearTimeout(timer);
    const link = this.#link;
    if (!link) return;
    let byeTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      link.send([dispatchTags.bye]).catch(() => undefined),
      new Promise<void>((resolve) => {
        byeTimer = setTimeout(resolve, Math.min(waitMs, 1000));
      }),
    ]);
    clearTimeout(byeTimer);
  }
}
