import type { PalmMessage } from "../message.js";

/**
 * A frame of a batching codec carries at most about this many payload bytes (a larger message travels
 * alone), so frames stay far below `maxMessageSize` and a high-water mark counted in frames also bounds
 * the bytes a socket queues.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * Cuts messages into the groups that go into one frame each: at most `maxMessages` messages and about
 * `MAX_FRAME_BYTES` of payload per group. The input itself is yielded when it fits in one frame.
 */
export function* frameChunks(messages: PalmMessage[], maxMessages: number): Generator<PalmMessage[]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const size = messages[i]!.payload.byteLength;
    if (i > start && (i - start >= maxMessages || bytes + size > MAX_FRAME_BYTES)) {
      yield messages.slice(start, i);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < messages.length) yield start === 0 ? messages : messages.slice(start);
}
