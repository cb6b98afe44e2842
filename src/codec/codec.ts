import type { PalmMessage } from "../message.js";

/** The names of palm's codecs. `palm-protobuf` is byte-compatible with Python pylm. */
export type CodecName = "msgpack" | "palm-protobuf";

/** Turns messages into frames and back. Decoding bad bytes throws a `PalmError`, never anything else. */
export interface Codec {
  readonly name: CodecName;
  /** Whether one frame may carry several messages (palm peers only). */
  readonly batches: boolean;
  /** Encodes messages into frames: one frame for a batching codec, one per message otherwise. */
  encode(messages: readonly PalmMessage[]): Buffer[];
  /** Encodes exactly one message into one frame. */
  encodeOne(message: PalmMessage): Buffer;
  /** Decodes one frame into the messages it carries (throws `PALM_ERR_CODEC_DECODE`). */
  decode(frame: Uint8Array): PalmMessage[];
}
