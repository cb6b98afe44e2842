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
    throw new PalmError("PALM_ERR_PART_HOOK", `The ${name} hook threw`, { cause: error });
  }
  return out;
}
