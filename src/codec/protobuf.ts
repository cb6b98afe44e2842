import { isUtf8 } from "node:buffer";
import { PalmError } from "../errors.js";
import type { PalmMessage } from "../message.js";
import type { Codec } from "./codec.js";

// pylm's schema, proto3 (pylm/parts/messages.proto), plus palm's two extras:
//
//   message PalmMessage {
//     string pipeline = 1; string client = 2; int64 stage = 3;
//     string function = 4; string cache = 5; bytes payload = 6;
//     optional string error = 7;   // palm: set when the call failed
//     optional string id = 8;      // palm: delivery id a master owns while the message is in flight
//     optional string trace = 9;   // palm: W3C traceparent of the span that passed the message on
//   }
//
// Encoding follows the protobuf wire format exactly as Python's protobuf writes it: fields in number
// order, fields 1–6 omitted at their default value (empty string, 0, empty bytes), fields 7 and 8 written
// whenever they are present (proto3 `optional`, explicit presence), never when absent; so is 9. pylm
// peers keep 7, 8 and 9 as unknown fields and send them back unchanged.
//
// The encoder and decoder are written by hand for speed (no per-message reflection or intermediate
// objects); `test/codec.test.ts` checks them byte for byte against protobufjs and Python's protobuf.

/** Tag bytes: (field number << 3) | wire type; wire type 2 = length-delimited, 0 = varint. */
const TAG_PIPELINE = 0x0a;
const TAG_CLIENT = 0x12;
const TAG_STAGE = 0x18;
const TAG_FUNCTION = 0x22;
const TAG_CACHE = 0x2a;
const TAG_PAYLOAD = 0x32;
const TAG_ERROR = 0x3a;
const TAG_TRACE = 0x4a;
const TAG_ID = 0x42;

const TWO_32 = 4294967296;
const EMPTY = Buffer.alloc(0);

function decodeError(reason: string): PalmError {
  return new PalmError("PALM_ERR_CODEC_DECODE", `Cannot decode a palm-protobuf frame: ${reason}`);
}

// ---------------------------------------------------------------------------------------------- encode

/** UTF-8 length of `s` as `Buffer.write` produces it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, "utf8");
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: 2 code units, 4 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

function varint32Size(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

// The halves `splitInt64` leaves behind (module-level, so encoding a stage allocates nothing).
let stageLo = 0;
let stageHi = 0;

/**
 * Splits an int64 into two unsigned 32-bit halves (two's complement) in `stageLo`/`stageHi`. As in
 * protobufjs, a fraction is truncated, a non-finite value is 0 and a value beyond 64 bits wraps.
 */
function splitInt64(value: number): void {
  let v = Number.isFinite(value) ? Math.trunc(value) : 0;
  const negative = v < 0;
  if (negative) v = -v;
  let lo = v >>> 0;
  let hi = Math.floor(v / TWO_32) >>> 0;
  if (negative) {
    lo = ~lo >>> 0;
    hi = ~hi >>> 0;
    if (++lo > 0xffffffff) {
      lo = 0;
      hi = (hi + 1) >>> 0;
    }
  }
  stageLo = lo;
  stageHi = hi;
}

function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varint32Size(lo);
  let size = 5; // the low 35 bits
  for (let rest = hi >>> 3; rest !== 0; rest >>>= 7) size++;
  return size;
}

function writeVarint32(buf: Buffer, pos: number, value: number): number {
  let v = value;
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function writeVarint64(buf: Buffer, pos: number, lo: number, hi: number): number {
  let l = lo;
  let h = hi;
  while (h !== 0) {
    buf[pos++] = (l & 0x7f) | 0x80;
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h >>>= 7;
  }
  return writeVarint32(buf, pos, l);
}

/** Writes a length-delimited string field whose UTF-8 length is `bytes`. */
function writeString(buf: Buffer, pos: number, tag: number, s: string, bytes: number): number {
  buf[pos++] = tag;
  pos = writeVarint32(buf, pos, bytes);
  if (bytes === s.length) {
    // ASCII: short strings are copied by hand, long ones by the (cheaper than utf8) latin1 writer.
    if (bytes < 48) for (let i = 0; i < bytes; i++) buf[pos + i] = s.charCodeAt(i);
    else buf.write(s, pos, bytes, "latin1");
    return pos + bytes;
  }
  return pos + buf.write(s, pos, bytes, "utf8");
}

/** Bytes a length-delimited field takes: tag, length, content. */
function stringFieldSize(bytes: number): number {
  return 1 + varint32Size(bytes) + bytes;
}

function encodeOne(m: PalmMessage): Buffer {
  const pipeline = m.pipeline.length === 0 ? 0 : utf8Length(m.pipeline);
  const client = m.client.length === 0 ? 0 : utf8Length(m.client);
  const fn = m.function.length === 0 ? 0 : utf8Length(m.function);
  const cache = m.cache.length === 0 ? 0 : utf8Length(m.cache);
  const payload = m.payload.byteLength;
  const error = m.error;
  const id = m.id;
  const errorBytes = error === undefined ? 0 : utf8Length(error);
  const idBytes = id === undefined ? 0 : utf8Length(id);
  const trace = m.trace;
  const traceBytes = trace === undefined ? 0 : utf8Length(trace);
  const stage = m.stage;
  // Stages are small non-negative integers; anything else takes the int64 path.
  const smallStage = stage >= 0 && stage <= 0x7fffffff && (stage | 0) === stage;
  let size = 0;
  if (pipeline !== 0) size += stringFieldSize(pipeline);
  if (client !== 0) size += stringFieldSize(client);
  if (smallStage) {
    if (stage !== 0) size += 1 + varint32Size(stage);
  } else {
    splitInt64(stage);
    if (stageLo !== 0 || stageHi !== 0) size += 1 + varint64Size(stageLo, stageHi);
  }
  if (fn !== 0) size += stringFieldSize(fn);
  if (cache !== 0) size += stringFieldSize(cache);
  if (payload !== 0) size += stringFieldSize(payload);
  if (error !== undefined) size += stringFieldSize(errorBytes);
  if (id !== undefined) size += stringFieldSize(idBytes);
  if (trace !== undefined) size += stringFieldSize(traceBytes);

  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  if (pipeline !== 0) pos = writeString(buf, pos, TAG_PIPELINE, m.pipeline, pipeline);
  if (client !== 0) pos = writeString(buf, pos, TAG_CLIENT, m.client, client);
  if (smallStage) {
    if (stage !== 0) {
      buf[pos++] = TAG_STAGE;
      pos = writeVarint32(buf, pos, stage);
    }
  } else if (stageLo !== 0 || stageHi !== 0) {
    buf[pos++] = TAG_STAGE;
    pos = writeVarint64(buf, pos, stageLo, stageHi);
  }
  if (fn !== 0) pos = writeString(buf, pos, TAG_FUNCTION, m.function, fn);
  if (cache !== 0) pos = writeString(buf, pos, TAG_CACHE, m.cache, cache);
  if (payload !== 0) {
    buf[pos++] = TAG_PAYLOAD;
    pos = writeVarint32(buf, pos, payload);
    buf.set(m.payload, pos);
    pos += payload;
  }
  if (error !== undefined) pos = writeString(buf, pos, TAG_ERROR, error, errorBytes);
  if (id !== undefined) pos = writeString(buf, pos, TAG_ID, id, idBytes);
  if (trace !== undefined) writeString(buf, pos, TAG_TRACE, trace, traceBytes);
  return buf;
}

// ---------------------------------------------------------------------------------------------- decode

/** Decoding state: the frame and the read position (module-level so reads allocate nothing). */
let src: Buffer = EMPTY;
let at = 0;

function readVarint32(): number {
  // Lengths and tags: up to 5 bytes hold 32 bits; a longer (non-minimal or oversized) varint is refused.
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= src.length) throw decodeError("truncated varint");
    const b = src[at++]!;
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (value > 0xffffffff) throw decodeError("varint too large");
      return value;
    }
  }
  throw decodeError("varint too long");
}

/** Reads an int64 varint (up to 10 bytes, two's complement) as the nearest number (exact up to 2^53). */
function readInt64(): number {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (at >= src.length) throw decodeError("truncated varint");
    const b = src[at++]!;
    if (i < 4) lo |= (b & 0x7f) << (i * 7);
    else if (i === 4) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >>> 4;
    } else hi |= (b & 0x7f) << (i * 7 - 32);
    if (b < 0x80) return (hi | 0) * TWO_32 + (lo >>> 0);
  }
  throw decodeError("varint longer than 10 bytes");
}

function readLength(): number {
  const length = readVarint32();
  if (length > src.length - at) throw decodeError("a field runs past the end of the frame (truncated?)");
  return length;
}

function readString(field: string): string {
  const length = readLength();
  if (length === 0) return "";
  const start = at;
  at += length;
  const s = src.toString("utf8", start, at);
  // proto3 strings are UTF-8; bad bytes turn into U+FFFD, so only then is the (rarer) full check needed.
  if (s.includes("\ufffd") && !isUtf8(src.subarray(start, at))) {
    throw decodeError(`field ${field} is not valid UTF-8`);
  }
  return s;
}

function decode(frame: Uint8Array): PalmMessage[] {
  if (!(frame instanceof Uint8Array)) throw decodeError("the frame is not bytes");
  src = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  at = 0;
  let pipeline = "";
  let client = "";
  let stage = 0;
  let fn = "";
  let cache = "";
  let payload: Uint8Array = EMPTY;
  let error: string | undefined;
  let id: string | undefined;
  let trace: string | undefined;
  try {
    const end = src.length;
    while (at < end) {
      let tag = src[at]!;
      if (tag < 0x80) at++;
      else tag = readVarint32();
      switch (tag) {
        case TAG_PIPELINE:
          pipeline = readString("pipeline");
          break;
        case TAG_CLIENT:
          client = readString("client");
          break;
        case TAG_STAGE:
          stage = readInt64();
          break;
        case TAG_FUNCTION:
          fn = readString("function");
          break;
        case TAG_CACHE:
          cache = readString("cache");
          break;
        case TAG_PAYLOAD: {
          const length = readLength();
          payload = length === 0 ? EMPTY : src.subarray(at, at + length);
          at += length;
          break;
        }
        case TAG_ERROR:
          error = readString("error");
          break;
        case TAG_ID:
          id = readString("id");
          break;
        case TAG_TRACE:
          trace = readString("trace");
          break;
        default:
          // pylm's schema has fields 1–6 and palm's 7–9; anything else (another field number, a known field
          // with the wrong wire type) means this is not a PalmMessage — most often a msgpack frame.
          throw decodeError(
            `unexpected field ${tag >>> 3} with wire type ${tag & 7} (not a PalmMessage; wrong codec?)`,
          );
      }
    }
  } finally {
    src = EMPTY; // do not keep the frame alive
  }
  return [{ pipeline, client, stage, function: fn, cache, payload, error, id, trace }];
}

/**
 * The `palm-protobuf` codec: exactly pylm's protobuf `PalmMessage` (proto3), one message per frame, byte
 * for byte what Python's protobuf writes, so palm peers interoperate with unmodified Python pylm servers,
 * workers and clients. palm's `error`, `id` and `trace` travel in fields 7, 8 and 9, which pylm keeps and
 * ignores.
 *
 * Decoding is strict: a truncated frame, a bad varint, invalid UTF-8 in a string field, or a field pylm's
 * and palm's schema do not have (which is what a msgpack frame looks like) throws `PALM_ERR_CODEC_DECODE`.
 * Bytes that happen to form a valid PalmMessage (the empty frame included) cannot be told apart from one.
 */
export const protobufCodec: Codec = {
  name: "palm-protobuf",
  batches: false,
  encode(messages) {
    const frames: Buffer[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) frames[i] = encodeOne(messages[i]!);
    return frames;
  },
  encodeOne,
  decode,
};
