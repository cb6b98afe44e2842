// Note for the worker side (from the Master side): ServerTemplate no longer has `deliver`, `pressure` or
// `notify` (issue 12 removes these back doors). A worker's legacy heartbeats over PUSH need another way
// (e.g. a PushBypassConnection and `sendBypass`, or no heartbeats at all on the legacy path: a palm Master
// treats PUSH/PULL peers as pylm workers, redelivered after `redeliverAfterMs` or on disconnect).
// Nothing in the shapes below changed. The Master answers an unknown or lost worker's `beat` with `who`.
// The Dispatch address defaults to a wildcard port, so a Master restarted on the same ports may bind
// another Dispatch port (unless `workerDispatchAddress` is fixed): a worker whose DEALER stays
// disconnected should look the address up again in the cache (`worker_dispatch_address`).
// A Master bound on `0.0.0.0` publishes `tcp://0.0.0.0:<port>`: a worker on another host must put the
// host it reached the cache on in its place (test/netns.test.ts needs this, or a worker option).
import { pack, unpack } from "msgpackr";

/**
 * The dispatch protocol between a Master's `Dispatch` part (a bound ROUTER) and palm workers (a DEALER
 * each, routing id = the worker's id). It carries credit-based dispatch (zguide's load-balancing broker):
 * a worker announces how many unanswered messages it may hold (`prefetch`), the master hands each message
 * to one named worker with credit, and knows at every moment which worker holds which message.
 *
 * Every multipart message is `[tag, …body]`; on the master's ROUTER the worker's routing id comes first.
 *
 * worker → master
 * - `hello`   `[hello, pack(WorkerHello)]`: a worker joins (or re-announces itself after `who`).
 * - `results` `[results, frame]`: results, one codec frame (`codec.encode`); each result carries the `id`
 *   of the message it answers. Results are signs of life and return credit.
 * - `beat`    `[beat, pack(WorkerBeat)]`: a heartbeat, sent from a helper thread so that a long synchronous
 *   call does not silence it. It may come from another socket than the worker's DEALER (routing id
 *   `<id>#beat`): the worker is named by `WorkerBeat.id`.
 * - `bye`     `[bye]`: the worker is leaving; it holds nothing the master should wait for.
 * - `credit`  `[credit, pack(WorkerCredit)]`: how many unanswered messages the worker wants to hold now (at
 *   most its hello's `prefetch`): a worker whose calls are slow asks for fewer, so that it does not sit on
 *   a queue the others could have run. A hello resets it to `prefetch`.
 *
 * master → worker
 * - `work`    `[work, pack(WorkHeader), frame]`: messages, one codec frame; the k-th message of the frame has
 *   dispatch sequence number `header.seq + k` (per worker, increasing).
 * - `revoke`  `[revoke, pack(Revoke)]`: messages the worker has not started must not be run (they were handed
 *   to another worker while this one was stuck in a long synchronous call).
 * - `welcome` `[welcome]`: the master registered the worker after its `hello` (sent before any `work`): a
 *   worker's start resolves on it, so a client started then finds the worker among those given work.
 * - `who`     `[who]`: the master does not know this worker (it restarted): the worker sends `hello` again.
 *
 * Anything else, or a body that does not decode to the shapes below, is a bad frame: counted and dropped.
 */
export const DISPATCH_VERSION = 1;

/** The cache key under which a Master publishes its Dispatch address (beside pylm's addresses). */
export const DISPATCH_CACHE_KEY = "worker_dispatch_address";

/**
 * What a palm Master's cache holds under {@link DISPATCH_CACHE_KEY} until its Dispatch part is bound: a
 * worker that reads it waits and asks again instead of taking the pylm (PUSH/PULL) path, which a master
 * that never publishes the key (pylm's) calls for.
 */
export const DISPATCH_PENDING = "pending";

export type DispatchTag =
  | "hello"
  | "results"
  | "beat"
  | "bye"
  | "credit"
  | "work"
  | "revoke"
  | "welcome"
  | "who";

const TAGS: ReadonlySet<string> = new Set<DispatchTag>([
  "hello",
  "results",
  "beat",
  "bye",
  "credit",
  "work",
  "revoke",
  "welcome",
  "who",
]);

/** Tag frames, encoded once. */
export const dispatchTags: Readonly<Record<DispatchTag, Buffer>> = Object.freeze({
  hello: Buffer.from("hello"),
  results: Buffer.from("results"),
  beat: Buffer.from("beat"),
  bye: Buffer.from("bye"),
  credit: Buffer.from("credit"),
  work: Buffer.from("work"),
  revoke: Buffer.from("revoke"),
  welcome: Buffer.from("welcome"),
  who: Buffer.from("who"),
});

/** What a worker says when it joins. */
export interface WorkerHello {
  readonly v: number;
  /** The worker's id (also its DEALER routing id). */
  readonly id: string;
  readonly name: string;
  readonly pid: number;
  readonly host: string;
  /** How many unanswered messages the worker may hold (its credit when it holds none). */
  readonly prefetch: number;
  /** How often it sends `beat`. */
  readonly heartbeatMs: number;
  /** Deadlines the worker declares per function name (ms), overriding the master's `callTimeoutMs`. */
  readonly timeouts?: Readonly<Record<string, number>>;
  /** Messages it still holds from before (a re-announce after `who`): their ids. */
  readonly holding?: readonly string[];
  /** Its live inspector's URL, when it serves one (sent again in a later hello once it listens). */
  readonly inspector?: string;
}

/** A heartbeat. */
export interface WorkerBeat {
  readonly id: string;
  /** Counts heartbeats from 1. */
  readonly seq: number;
  /**
   * Set while the worker's main thread is inside one synchronous call: the dispatch sequence number of the
   * message it runs and for how long it has run (ms). Messages after it are not started.
   */
  readonly busy?: { readonly seq: number; readonly ms: number };
}

/** The body of a `credit` message. */
export interface WorkerCredit {
  /** Unanswered messages the worker wants to hold from now on (1 to its hello's `prefetch`). */
  readonly prefetch: number;
}

/** The header of a `work` message. */
export interface WorkHeader {
  /** Dispatch sequence number of the first message of the frame. */
  readonly seq: number;
  /** Per message, ms left until its deadline when it was sent (0: none). */
  readonly deadlines: readonly number[];
}

/** The body of a `revoke` message. */
export interface Revoke {
  readonly seqs: readonly number[];
}

/** Reads a tag frame; undefined for anything that is not one. */
export function readTag(frame: Buffer | undefined): DispatchTag | undefined {
  if (!frame || frame.length > 8) return undefined;
  const text = frame.toString("latin1");
  return TAGS.has(text) ? (text as DispatchTag) : undefined;
}

function unpackObject(frame: Buffer | undefined): Record<string, unknown> | undefined {
  if (!frame || frame.length === 0 || frame.length > 65_536) return undefined;
  try {
    const value: unknown = unpack(frame);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isCount = (value: unknown, min = 0): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= min;
const isId = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= 200;

export function encodeHello(hello: WorkerHello): Buffer {
  return pack(hello);
}

/** Decodes a `hello` body; undefined if it is malformed (never trusted). */
export function decodeHello(frame: Buffer | undefined): WorkerHello | undefined {
  const o = unpackObject(frame);
  if (!o || !isId(o.id) || typeof o.name !== "string" || o.name.length > 200) return undefined;
  if (!isCount(o.v, 1) || !isCount(o.pid) || typeof o.host !== "string" || o.host.length > 255)
    return undefined;
  if (!isCount(o.prefetch, 1) || o.prefetch > 100_000 || !isCount(o.heartbeatMs)) return undefined;
  let timeouts: Record<string, number> | undefined;
  if (o.timeouts !== undefined) {
    if (o.timeouts === null || typeof o.timeouts !== "object" || Array.isArray(o.timeouts)) return undefined;
    timeouts = {};
    for (const [fn, ms] of Object.entries(o.timeouts as Record<string, unknown>)) {
      if (!isCount(ms, 1)) return undefined;
      timeouts[fn] = ms;
    }
  }
  let holding: string[] | undefined;
  if (o.holding !== undefined) {
    if (!Array.isArray(o.holding) || o.holding.length > 100_000 || !o.holding.every(isId)) return undefined;
    holding = o.holding as string[];
  }
  if (o.inspector !== undefined && !isInspectorUrl(o.inspector)) return undefined;
  return {
    v: o.v,
    id: o.id,
    name: o.name,
    pid: o.pid,
    host: o.host,
    prefetch: o.prefetch,
    heartbeatMs: o.heartbeatMs,
    ...(timeouts ? { timeouts } : {}),
    ...(holding ? { holding } : {}),
    ...(o.inspector !== undefined ? { inspector: o.inspector as string } : {}),
  };
}

const isInspectorUrl = (value: unknown): value is string =>
  typeof value === "string" && value.length <= 300 && /^https?:\/\/[^\s]+$/.test(value);

export function encodeBeat(beat: WorkerBeat): Buffer {
  return pack(beat);
}

/** Decodes a `beat` body; undefined if it is malformed. */
export function decodeBeat(frame: Buffer | undefined): WorkerBeat | undefined {
  const o = unpackObject(frame);
  if (!o || !isId(o.id) || !isCount(o.seq, 1)) return undefined;
  if (o.busy === undefined || o.busy === null) return { id: o.id, seq: o.seq };
  const busy = o.busy as Record<string, unknown>;
  if (typeof busy !== "object" || !isCount(busy.seq) || !isCount(busy.ms)) return undefined;
  return { id: o.id, seq: o.seq, busy: { seq: busy.seq, ms: busy.ms } };
}

/** `{"seq": …, "deadlines": […]}` as msgpack: a fixmap of 2, then each key as a fixstr. */
const SEQ_KEY = Buffer.from([0x82, 0xa3, ...Buffer.from("seq")]);
const DEADLINES_KEY = Buffer.from([0xa9, ...Buffer.from("deadlines")]);

/**
 * Writes a count (a safe non-negative integer) as msgpack at `at`: a fixint below 128, else a float64 (exact
 * for every safe integer, and read back as the same number); returns where it ends.
 */
function writeCount(out: Buffer, at: number, value: number): number {
  if (value < 0x80) {
    out[at] = value;
    return at + 1;
  }
  out[at] = 0xcb;
  out.writeDoubleBE(value, at + 1);
  return at + 9;
}

/**
 * Encodes a `work` header as standard msgpack (what `pack` writes but for the width of its integers). Written
 * by hand, as it is read: one goes with every work frame, and a lone message's pass runs cold, where
 * msgpackr's general `pack` and `unpack` cost several µs each.
 */
export function encodeWorkHeader(header: WorkHeader): Buffer {
  const { seq, deadlines } = header;
  const count = deadlines.length;
  if (!isCount(seq) || count >= 0x10000 || !deadlines.every((d) => isCount(d))) return pack(header);
  const out = Buffer.allocUnsafe(SEQ_KEY.length + 9 + DEADLINES_KEY.length + 3 + 9 * count);
  SEQ_KEY.copy(out, 0);
  let at = writeCount(out, SEQ_KEY.length, seq);
  DEADLINES_KEY.copy(out, at);
  at += DEADLINES_KEY.length;
  if (count < 16) out[at++] = 0x90 | count;
  else {
    out[at] = 0xdc;
    out.writeUInt16BE(count, at + 1);
    at += 3;
  }
  for (let k = 0; k < count; k++) at = writeCount(out, at, deadlines[k]!);
  return out.subarray(0, at);
}

/** The hand-written header reader's cursor (decoding is synchronous). */
let pos = 0;

/** Reads a count (fixint, uint 8/16/32, or a float64 holding a safe integer) at `pos`; -1 if it is not one. */
function readCount(frame: Buffer): number {
  const b = frame[pos];
  if (b === undefined) return -1;
  if (b < 0x80) {
    pos++;
    return b;
  }
  let value: number;
  if (b === 0xcc) value = frame.readUInt8(pos + 1);
  else if (b === 0xcd) value = frame.readUInt16BE(pos + 1);
  else if (b === 0xce) value = frame.readUInt32BE(pos + 1);
  else if (b === 0xcb) value = frame.readDoubleBE(pos + 1);
  else return -1;
  pos += b === 0xcc ? 2 : b === 0xcd ? 3 : b === 0xce ? 5 : 9;
  return Number.isSafeInteger(value) && value >= 0 ? value : -1;
}

/**
 * A `work` header in the shape `encodeWorkHeader` writes (a map of `seq` and `deadlines`, keys as fixstr),
 * read without msgpackr's general decoder (a work frame's every header passes here); undefined for any
 * other shape, which `decodeWorkHeader` then reads the general way. Throws on a frame cut short.
 */
function readWorkHeader(frame: Buffer): WorkHeader | undefined {
  if (frame[0] !== 0x82) return undefined;
  pos = 1;
  let seq = -1;
  let deadlines: number[] | undefined;
  for (let entry = 0; entry < 2; entry++) {
    const b = frame[pos];
    if (b === undefined || (b & 0xe0) !== 0xa0) return undefined;
    const key = frame.toString("latin1", pos + 1, pos + 1 + (b & 0x1f));
    pos += 1 + (b & 0x1f);
    if (key === "seq" && seq < 0) {
      seq = readCount(frame);
      if (seq < 0) return undefined;
    } else if (key === "deadlines" && deadlines === undefined) {
      const head = frame[pos];
      let count: number;
      if (head !== undefined && (head & 0xf0) === 0x90) {
        count = head & 0x0f;
        pos++;
      } else if (head === 0xdc) {
        count = frame.readUInt16BE(pos + 1);
        pos += 3;
      } else return undefined;
      deadlines = [];
      for (let k = 0; k < count; k++) {
        const left = readCount(frame);
        if (left < 0) return undefined;
        deadlines.push(left);
      }
    } else return undefined;
  }
  return seq >= 0 && deadlines !== undefined && pos === frame.length ? { seq, deadlines } : undefined;
}

/** Decodes a `work` header; undefined if it is malformed. */
export function decodeWorkHeader(frame: Buffer | undefined): WorkHeader | undefined {
  if (frame && frame.length > 0 && frame.length <= 65_536) {
    try {
      const header = readWorkHeader(frame);
      if (header) return header;
    } catch {
      // Cut short: the general decoder below says it is malformed.
    }
  }
  const o = unpackObject(frame);
  if (!o || !isCount(o.seq) || !Array.isArray(o.deadlines) || !o.deadlines.every((d) => isCount(d)))
    return undefined;
  return { seq: o.seq, deadlines: o.deadlines as number[] };
}

export function encodeRevoke(revoke: Revoke): Buffer {
  return pack(revoke);
}

/** Decodes a `revoke` body; undefined if it is malformed. */
export function decodeRevoke(frame: Buffer | undefined): Revoke | undefined {
  const o = unpackObject(frame);
  if (!o || !Array.isArray(o.seqs) || !o.seqs.every((s) => isCount(s))) return undefined;
  return { seqs: o.seqs as number[] };
}

export function encodeCredit(credit: WorkerCredit): Buffer {
  return pack(credit);
}

/** Decodes a `credit` body; undefined if it is malformed. */
export function decodeCredit(frame: Buffer | undefined): WorkerCredit | undefined {
  const o = unpackObject(frame);
  if (!o || !isCount(o.prefetch, 1) || o.prefetch > 100_000) return undefined;
  return { prefetch: o.prefetch };
}
