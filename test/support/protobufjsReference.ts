import protobuf from "protobufjs/light.js";
import type { Codec } from "../../src/codec/codec.js";
import { PalmError } from "../../src/errors.js";
import type { PalmMessage } from "../../src/message.js";

// The same schema as `protobuf.ts`, built with protobufjs's reflection.
const PalmMessageType = new protobuf.Type("PalmMessage")
  .add(new protobuf.Field("pipeline", 1, "string"))
  .add(new protobuf.Field("client", 2, "string"))
  .add(new protobuf.Field("stage", 3, "int64"))
  .add(new protobuf.Field("function", 4, "string"))
  .add(new protobuf.Field("cache", 5, "string"))
  .add(new protobuf.Field("payload", 6, "bytes"))
  .add(new protobuf.Field("error", 7, "string"))
  .add(new protobuf.Field("id", 8, "string"))
  .add(new protobuf.Field("trace", 9, "string"));
new protobuf.Root().define("palm").add(PalmMessageType);

type Int64 = number | { toNumber(): number };

/**
 * A `palm-protobuf` codec built on protobufjs: the reference the hand-written codec is tested and
 * measured against. protobufjs writes every field it is given, so fields 1–6 are given only when they
 * differ from their default (proto3) and 7–8 only when present. Not used on the message path.
 *
 * @internal
 */
export const protobufjsReferenceCodec: Codec = {
  name: "palm-protobuf",
  batches: false,
  encode(messages) {
    return messages.map((m) => this.encodeOne(m));
  },
  encodeOne(m) {
    const fields: Record<string, unknown> = {};
    if (m.pipeline !== "") fields.pipeline = m.pipeline;
    if (m.client !== "") fields.client = m.client;
    if (m.stage !== 0 && Math.trunc(m.stage) !== 0) fields.stage = m.stage;
    if (m.function !== "") fields.function = m.function;
    if (m.cache !== "") fields.cache = m.cache;
    if (m.payload.byteLength !== 0) fields.payload = m.payload;
    if (m.error !== undefined) fields.error = m.error;
    if (m.id !== undefined) fields.id = m.id;
    if (m.trace !== undefined) fields.trace = m.trace;
    const bytes = PalmMessageType.encode(fields).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
  decode(frame) {
    let d: Record<string, unknown>;
    try {
      d = PalmMessageType.decode(frame) as unknown as Record<string, unknown>;
    } catch (error) {
      throw new PalmError("PALM_ERR_CODEC_DECODE", "Cannot decode a palm-protobuf frame", { cause: error });
    }
    const own = (key: string) => Object.hasOwn(d, key);
    const stage = d.stage as Int64;
    return [
      {
        pipeline: d.pipeline as string,
        client: d.client as string,
        stage: typeof stage === "number" ? stage : stage.toNumber(),
        function: d.function as string,
        cache: d.cache as string,
        payload: d.payload as Uint8Array,
        error: own("error") ? (d.error as string) : undefined,
        id: own("id") ? (d.id as string) : undefined,
        trace: own("trace") ? (d.trace as string) : undefined,
      } satisfies PalmMessage,
    ];
  },
};
