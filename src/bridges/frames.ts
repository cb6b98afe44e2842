import { describeValue, PalmError } from "../errors.js";
import { isMessage, type PalmMessage } from "../message.js";
import type { PartEnvironment } from "../part.js";
import type { FrameBatch } from "../sockets/keptSocket.js";

/** What decoding one batch of multipart messages gave: the messages, and the bad ones counted. */
export interface DecodedBatch {
  messages: PalmMessage[];
  bad: number;
  reason: string;
}

/**
 * Decodes a batch read from a socket whose messages have `parts` frames, the PalmMessage frame last
 * (one for PULL and REP, two — topic and message — for SUB). Bad messages are counted, never thrown.
 */
export function decodeBatch(environment: PartEnvironment, batch: FrameBatch, parts: number): DecodedBatch {
  const messages: PalmMessage[] = [];
  let bad = 0;
  let reason = "";
  for (const frames of batch) {
    if (frames.length !== parts) {
      bad++;
      reason = `expected ${parts} frame(s), got ${frames.length}`;
      continue;
    }
    try {
      const decoded = environment.codec.decode(frames[parts - 1]!);
      for (const message of decoded) messages.push(message);
    } catch (error) {
      bad++;
      reason = error instanceof Error ? error.message : String(error);
    }
  }
  return { messages, bad, reason };
}

function hookError(name: string, error: unknown): PalmError {
  if (error instanceof PalmError && error.code === "PALM_ERR_PART_HOOK") return error;
  return new PalmError("PALM_ERR_PART_HOOK", `The ${name} hook threw`, { cause: error });
}

/**
 * Appends the messages a hook returned to `out`, checked: anything else (a number, `null`, an object
 * without bytes) would fail the part it is routed to, and again after each of its restarts, until the
 * server gives up.
 */
function pushMessages(name: string, result: unknown, out: PalmMessage[]): void {
  if (typeof (result as Iterable<unknown> | null)?.[Symbol.iterator] !== "function") {
    throw new PalmError(
      "PALM_ERR_PART_HOOK",
      `The ${name} hook returned ${describeValue(result)}: it must return an iterable of messages`,
    );
  }
  for (const item of result as Iterable<unknown>) {
    if (!isMessage(item)) {
      throw new PalmError(
        "PALM_ERR_PART_HOOK",
        `The ${name} hook returned ${describeValue(item)} among its messages: each must have a \`function\` (string) and a \`payload\` (bytes)`,
      );
    }
    out.push(item);
  }
}

/** Applies a one-to-many hook to every message; a throwing hook becomes a `PALM_ERR_PART_HOOK`. */
export function applyHook(
  messages: PalmMessage[],
  hook: ((message: PalmMessage) => Iterable<PalmMessage>) | undefined,
  name: string,
): PalmMessage[] {
  if (!hook) return messages;
  const out: PalmMessage[] = [];
  try {
    for (const message of messages) pushMessages(name, hook(message), out);
  } catch (error) {
    throw hookError(name, error);
  }
  return out;
}

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * Applies a hook that may answer synchronously or with a promise: synchronous answers stay synchronous
 * (no promise on the hot path), and the messages keep their order either way. The first message the hook
 * throws on (or answers with something that is not messages) throws its `PALM_ERR_PART_HOOK`.
 */
export function applyMaybeAsyncHook(
  messages: PalmMessage[],
  hook: (message: PalmMessage) => Iterable<PalmMessage> | Promise<Iterable<PalmMessage>>,
  name: string,
): PalmMessage[] | Promise<PalmMessage[]> {
  const hooked = hookEach(messages, hook, name, false);
  return hooked instanceof Promise ? hooked.then(messagesOrThrow) : messagesOrThrow(hooked);
}

function messagesOrThrow(hooked: HookedBatch): PalmMessage[] {
  if (hooked.failure !== undefined) throw hooked.failure;
  return hooked.messages;
}

/** What a hook made of a batch: the messages of every message it took, and its first failure, if any. */
export interface HookedBatch {
  readonly messages: PalmMessage[];
  readonly failure?: PalmError;
}

/**
 * Applies a hook (which may answer with a promise) to each message of a batch read from a socket. A
 * message the hook throws on, or answers with something that is not messages, costs only itself: what
 * the hook made of the others still goes on, in order, and `failure` says why it failed (the first
 * failure), for the part to fail with.
 */
export function applyBatchHook(
  messages: PalmMessage[],
  hook: (message: PalmMessage) => Iterable<PalmMessage> | Promise<Iterable<PalmMessage>>,
  name: string,
): HookedBatch | Promise<HookedBatch> {
  return hookEach(messages, hook, name, true);
}

type MaybeAsyncHook = (message: PalmMessage) => Iterable<PalmMessage> | Promise<Iterable<PalmMessage>>;

/**
 * Runs `hook` on each message in order, synchronously until it first answers with a promise. A failure
 * (a throw, or an answer that is not messages) is kept as the first failure; with `keepGoing` the other
 * messages still run, without it the loop stops there.
 */
function hookEach(
  messages: PalmMessage[],
  hook: MaybeAsyncHook,
  name: string,
  keepGoing: boolean,
): HookedBatch | Promise<HookedBatch> {
  const out: PalmMessage[] = [];
  let failure: PalmError | undefined;
  for (let i = 0; i < messages.length; i++) {
    let failed: PalmError | undefined;
    try {
      const result = hook(messages[i]!);
      if (isPromise<Iterable<PalmMessage>>(result)) {
        return finishAsync(messages, i, result, out, failure, hook, name, keepGoing);
      }
      failed = takeMessages(name, result, out);
    } catch (error) {
      failed = hookError(name, error);
    }
    failure ??= failed;
    if (failure !== undefined && !keepGoing) break;
  }
  return failure === undefined ? { messages: out } : { messages: out, failure };
}

async function finishAsync(
  messages: PalmMessage[],
  from: number,
  first: Promise<Iterable<PalmMessage>>,
  out: PalmMessage[],
  failure: PalmError | undefined,
  hook: MaybeAsyncHook,
  name: string,
  keepGoing: boolean,
): Promise<HookedBatch> {
  for (let i = from; i < messages.length; i++) {
    let failed: PalmError | undefined;
    try {
      failed = takeMessages(name, await (i === from ? first : hook(messages[i]!)), out);
    } catch (error) {
      failed = hookError(name, error);
    }
    failure ??= failed;
    if (failure !== undefined && !keepGoing) break;
  }
  return failure === undefined ? { messages: out } : { messages: out, failure };
}

/** Appends what a hook returned for one message to `out` if it is all messages; else why not. */
function takeMessages(name: string, result: unknown, out: PalmMessage[]): PalmError | undefined {
  const mark = out.length;
  try {
    pushMessages(name, result, out);
    return undefined;
  } catch (error) {
    out.length = mark;
    return hookError(name, error);
  }
}
