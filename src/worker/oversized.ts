import type { Codec } from "../codec/codec.js";
import { remoteErrorText } from "../errors.js";
import { failedMessage, type PalmMessage } from "../message.js";

/** Room left for a message's fields besides its payload before a result is measured exactly. */
const FIELDS_SLACK = 64 * 1024;

/**
 * Replaces every result whose encoded frame would exceed `maxMessageSize` (which the master's socket would
 * refuse, disconnecting the worker) by an error result `PALM_ERR_CODEC_OVERSIZED`. Only results with a
 * large payload are encoded to be measured; the array itself is returned when nothing changed.
 */
export function limitResultSize(results: PalmMessage[], codec: Codec, maxMessageSize: number): PalmMessage[] {
  const measureFrom = Math.max(0, maxMessageSize - FIELDS_SLACK);
  let out: PalmMessage[] | undefined;
  for (let i = 0; i < results.length; i++) {
    const result = results[i]!;
    if (result.payload.byteLength < measureFrom) continue;
    const size = codec.encodeOne(result).byteLength;
    if (size <= maxMessageSize) continue;
    out ??= results.slice();
    out[i] = failedMessage(
      result,
      remoteErrorText(
        "PALM_ERR_CODEC_OVERSIZED",
        `the result (${size} bytes encoded) exceeds the worker's maxMessageSize (${maxMessageSize} bytes)`,
      ),
    );
  }
  return out ?? results;
}
