import { Packr } from "msgpackr";
import { PalmError } from "../errors.js";
import type { PalmMessage } from "../message.js";
import type { Codec } from "./codec.js";

/** The first element of every palm msgpack frame: names the format and its version. */
export const MSGPACK_FRAME_TAG = "palm/1";

// One packer for the process: msgpackr reuses its buffer between calls.
const packer = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: false });

function decodeError(reason: string, cause?: unknown): PalmError {
  return new PalmError("PALM_ERR_CODEC_DECODE", `Cannot decode a msgpack palm frame: ${reason}`, { cause });
}

function toTuple(m: PalmMessage): unknown[] {
  return [m.pipeline, m.client, m.stage, m.function, m.cache, m.payload, m.error ?? null, m.id ?? null];
}

function fromTuple(t: unknown): PalmMessage {
  if (!Array.isArray(t) || t.length !== 8) throw decodeError("a message is not an 8-element tuple");
  const [pipeline, client, stage, fn, cache, payload, error, id] = t;
  if (
    typeof pipeline !== "string" ||
    typeof client !== "string" ||
    typeof stage !== "number" ||
    typeof fn !== "string" ||
    typeof cache !== "string" ||
    !(payload instanceof Uint8Array) ||
    (error !== null && typeof error !== "string") ||
    (id !== null && typeof id !== "string")
  ) {
    throw decodeError("a message field has the wrong type");
  }
  return {
    pipeline,
    client,
    stage,
    function: fn,
    cache,
    payload,
    error: error ?? undefined,
    id: id ?? undefined,
  };
}

/**
 * palm's default codec: msgpack (msgpackr) frames tagged `palm/1`, each carrying one or more messages.
 * Frames without the tag (garbage, a protobuf frame) are refused with `PALM_ERR_CODEC_DECODE`.
 */
export const msgpackCodec: Codec = {
  name: "msgpack",
  batches: true,
  encode(messages) {
    const frame: unknown[] = new Array(messages.length + 1);
    frame[0] = MSGPACK_FRAME_TAG;
    for (let i = 0; i < messages.length; i++) frame[i + 1] = toTuple(messages[i]!);
    return [packer.pack(frame)];
  },
  encodeOne(message) {
    return packer.pack([MSGPACK_FRAME_TAG, toTuple(message)]);
  },
  decode(frame) {
    let value: unknown;
    try {
      value = packer.unpack(frame as Buffer);
    } catch (error) {
      throw decodeError("not msgpack", error);
    }
    if (!Array.isArray(value) || value[0] !== MSGPACK_FRAME_TAG) {
      throw decodeError(`the frame does not start with the ${MSGPACK_FRAME_TAG} tag (wrong codec?)`);
    }
    const out: PalmMessage[] = new Array(value.length - 1);
    for (let i = 1; i < value.length; i++) out[i - 1] = fromTuple(value[i]);
    return out;
  },
};
