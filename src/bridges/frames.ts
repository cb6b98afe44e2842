import { describeValue, PalmError } from "../errors.js";
import type { PalmMessage } from "../message.js";
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

/** Whether a value has the shape of a message: a `function` name and `payload` bytes. */
function isMessage(value: unknown): value is PalmMessage {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as PalmMessage).function === "string" &&
    (value as PalmMessage).payload instanceof Uint8Array
  );
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
 * (no promise on the hot path), and the messages keep their order either way.
 */
export function applyMaybeAsyncHook(
  messages: PalmMessage[],
  hook: (message: PalmMessage) => Iterable<PalmMessage> | Promise<Iterable<PalmMessage>>,
  name: string,
): PalmMessage[] | Promise<PalmMessage[]> {
  const out: PalmMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    try {
      const result = hook(messages[i]!);
      if (isPromise<Iterable<PalmMessage>>(result)) return finishAsync(messages, i, result, out, hook, name);
      pushMessages(name, result, out);
    } catch (error) {
      throw hookError(name, error);
    }
  }
  return out;
}

async function finishAsync(
  messages: PalmMessage[],
  from: number,
  first: Promise<Iterable<PalmMessage>>,
  out: PalmMessage[],
  hook: (message: PalmMessage) => Iterable<PalmMessage> | Promise<Iterable<PalmMessage>>,
  name: string,
): Promise<PalmMessage[]> {
  try {
    pushMessages(name, await first, out);
    for (let i = from + 1; i < messages.length; i++) pushMessages(name, await hook(messages[i]!), out);
  } catch (error) {
    throw hookError(name, error);
  }
  return out;
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
  const out: PalmMessage[] = [];
  let failure: PalmError | undefined;
  for (let i = 0; i < messages.length; i++) {
    let result: Iterable<PalmMessage> | Promise<Iterable<PalmMessage>>;
    try {
      result = hook(messages[i]!);
    } catch (error) {
      failure ??= hookError(name, error);
      continue;
    }
    if (isPromise<Iterable<PalmMessage>>(result)) {
      return finishBatchAsync(messages, i, result, out, failure, hook, name);
    }
    const failed = takeMessages(name, result, out);
    failure ??= failed;
  }
  return failure === undefined ? { messages: out } : { messages: out, failure };
}

async function finishBatchAsync(
  messages: PalmMessage[],
  from: number,
  first: Promise<Iterable<PalmMessage>>,
  out: PalmMessage[],
  failure: PalmError | undefined,
  hook: (message: PalmMessage) => Iterable<PalmMessage> | Promise<Iterable<PalmMessage>>,
  name: string,
): Promise<HookedBatch> {
  for (let i = from; i < messages.length; i++) {
    try {
      const failed = takeMessages(name, await (i === from ? first : hook(messages[i]!)), out);
      failure ??= failed;
    } catch (error) {
      failure ??= hookError(name, error);
    }
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
