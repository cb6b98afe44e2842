import { PalmError } from "../errors.js";
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
  return new PalmError("PALM_ERR_PART_HOOK", `The ${name} hook threw`, { cause: error });
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
    for (const message of messages) for (const item of hook(message)) out.push(item);
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
    let result: Iterable<PalmMessage> | Promise<Iterable<PalmMessage>>;
    try {
      result = hook(messages[i]!);
    } catch (error) {
      throw hookError(name, error);
    }
    if (isPromise<Iterable<PalmMessage>>(result)) return finishAsync(messages, i, result, out, hook, name);
    for (const item of result) out.push(item);
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
    for (const item of await first) out.push(item);
    for (let i = from + 1; i < messages.length; i++)
      for (const item of await hook(messages[i]!)) out.push(item);
  } catch (error) {
    throw hookError(name, error);
  }
  return out;
}
