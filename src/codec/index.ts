import { invalidOption } from "../errors.js";
import type { Codec, CodecName } from "./codec.js";
import { msgpackCodec } from "./msgpack.js";
import { protobufCodec } from "./protobuf.js";

export type { Codec, CodecName } from "./codec.js";
export { msgpackCodec } from "./msgpack.js";
export { protobufCodec } from "./protobuf.js";

/** Returns the codec named `name`; `option` names the option it came from, for the error. */
export function getCodec(name: unknown = "msgpack", option = "codec"): Codec {
  if (name === "msgpack") return msgpackCodec;
  if (name === "palm-protobuf") return protobufCodec;
  throw invalidOption(option, '"msgpack" or "palm-protobuf"', name);
}

export function isCodecName(name: unknown): name is CodecName {
  return name === "msgpack" || name === "palm-protobuf";
}
