import protobuf from "protobufjs/light.js";
import { PalmError } from "../errors.js";
import type { PalmMessage } from "../message.js";
import type { Codec } from "./codec.js";

// pylm's schema (proto3), plus palm's optional fields 7 (error) and 8 (delivery id), which pylm peers
// ignore and carry through unchanged.
const PalmMessageType = new protobuf.Type("PalmMessage")
  .add(new protobuf.Field("pipeline", 1, "string"))
  .add(new protobuf.Field("client", 2, "string"))
  .add(new protobuf.Field("stage", 3, "int64"))
  .add(new protobuf.Field("function", 4, "string"))
  .add(new protobuf.Field("cache", 5, "string"))
  .add(new protobuf.Field("payload", 6, "bytes"))
  .add(new protobuf.Field("error", 7, "string"))
  .add(new protobuf.Field("id", 8, "string"));
new protobuf.Root().define("palm").add(PalmMessageType);

interface Decoded {
  pipeline: string;
  client: string;
  stage: number | { toNumber(): number };
  function: string;
  cache: string;
  payload: Uint8Array;
  error: string;
  id: string;
}

/**
 * The `palm-protobuf` codec: exactly pylm's protobuf `PalmMessage`, one message per frame, so palm
 * peers interoperate with unmodified Python pylm servers, workers and clients.
 */
export const protobufCodec: Codec = {
  name: "palm-protobuf",
  batches: false,
  encode(messages) {
    return messages.map((m) => this.encodeOne(m));
  },
  encodeOne(m) {
    const bytes = PalmMessageType.encode({
      pipeline: m.pipeline,
      client: m.client,
      stage: m.stage,
      function: m.function,
      cache: m.cache,
      payload: m.payload,
      error: m.error ?? "",
      id: m.id ?? "",
    }).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
  decode(frame) {
    let d: Decoded;
    try {
      d = PalmMessageType.decode(frame) as unknown as Decoded;
    } catch (error) {
      throw new PalmError("PALM_ERR_CODEC_DECODE", "Cannot decode a palm-protobuf frame: not a PalmMessage", {
        cause: error,
      });
    }
    const stage = typeof d.stage === "number" ? d.stage : d.stage.toNumber();
    return [
      {
        pipeline: d.pipeline,
        client: d.client,
        stage,
        function: d.function,
        cache: d.cache,
        payload: d.payload,
        error: d.error === "" ? undefined : d.error,
        id: d.id === "" ? undefined : d.id,
      },
    ];
  },
};
