import { Unpackr } from "msgpackr";
import { PalmError } from "../errors.js";
import { NOT_SAMPLED, type PalmMessage } from "../message.js";
import type { Codec } from "./codec.js";

/** The first element of every palm msgpack frame: names the format and its version. */
export const MSGPACK_FRAME_TAG = "palm/1";

// A frame is the msgpack array ["palm/1", tuple, tuple, …], each tuple the 8-array
// [pipeline, client, stage, function, cache, payload, error | nil, id | nil], or the 9-array with the
// message's trace context (a W3C traceparent) last when it carries one. Every message crosses this
// code twice per hop, so both directions are written by hand for the shapes palm itself produces; a frame
// in any other (valid) msgpack shape — another encoder's choices — is decoded by msgpackr instead.

/** The one byte of `NOT_SAMPLED`, the `trace` of a call tracing did not sample. */
const DASH = 0x2d;

const TAG_BYTES = Buffer.from([0xa6, ...Buffer.from(MSGPACK_FRAME_TAG, "latin1")]);
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });

function decodeError(reason: string, cause?: unknown): PalmError {
  return new PalmError("PALM_ERR_CODEC_DECODE", `Cannot decode a msgpack palm frame: ${reason}`, { cause });
}

// ------------------------------------------------------------------------------------------- encoding

/** The buffer frames are written into, grown as needed; each frame is copied out of it at the end. */
let scratch = Buffer.allocUnsafeSlow(64 * 1024);
let at = 0;

function reserve(bytes: number): void {
  if (at + bytes <= scratch.length) return;
  const grown = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, at + bytes));
  scratch.copy(grown, 0, 0, at);
  scratch = grown;
}

function writeArrayHeader(count: number): void {
  reserve(5);
  if (count < 16) scratch[at++] = 0x90 | count;
  else if (count < 0x10000) {
    scratch[at] = 0xdc;
    scratch.writeUInt16BE(count, at + 1);
    at += 3;
  } else {
    scratch[at] = 0xdd;
    scratch.writeUInt32BE(count, at + 1);
    at += 5;
  }
}

function writeStringHeader(length: number): void {
  if (length < 32) scratch[at++] = 0xa0 | length;
  else if (length < 0x100) {
    scratch[at++] = 0xd9;
    scratch[at++] = length;
  } else if (length < 0x10000) {
    scratch[at] = 0xda;
    scratch.writeUInt16BE(length, at + 1);
    at += 3;
  } else {
    scratch[at] = 0xdb;
    scratch.writeUInt32BE(length, at + 1);
    at += 5;
  }
}

function writeString(value: string): void {
  const n = value.length;
  reserve(5 + 3 * n);
  // Short ASCII (ids, names, `server.fn`) is copied char by char: cheaper than a call into C++.
  if (n < 128) {
    const start = at;
    const body = start + (n < 32 ? 1 : 2);
    let i = 0;
    for (; i < n; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) break;
      scratch[body + i] = code;
    }
    if (i === n) {
      writeStringHeader(n);
      at = body + n;
      return;
    }
    at = start;
  }
  const length = Buffer.byteLength(value, "utf8");
  writeStringHeader(length);
  at += scratch.write(value, at, length, "utf8");
}

function writeInteger(value: number): void {
  reserve(9);
  if (value >= 0) {
    if (value < 0x80) scratch[at++] = value;
    else if (value < 0x100) {
      scratch[at++] = 0xcc;
      scratch[at++] = value;
    } else if (value < 0x10000) {
      scratch[at] = 0xcd;
      scratch.writeUInt16BE(value, at + 1);
      at += 3;
    } else if (value < 0x100000000) {
      scratch[at] = 0xce;
      scratch.writeUInt32BE(value, at + 1);
      at += 5;
    } else writeFloat(value);
  } else if (value >= -32) scratch[at++] = value & 0xff;
  else if (value >= -0x80000000) {
    scratch[at] = 0xd2;
    scratch.writeInt32BE(value, at + 1);
    at += 5;
  } else writeFloat(value);
}

function writeFloat(value: number): void {
  reserve(9);
  scratch[at] = 0xcb;
  scratch.writeDoubleBE(value, at + 1);
  at += 9;
}

function writeBinary(value: Uint8Array): void {
  const n = value.byteLength;
  reserve(5 + n);
  if (n < 0x100) {
    scratch[at++] = 0xc4;
    scratch[at++] = n;
  } else if (n < 0x10000) {
    scratch[at] = 0xc5;
    scratch.writeUInt16BE(n, at + 1);
    at += 3;
  } else {
    scratch[at] = 0xc6;
    scratch.writeUInt32BE(n, at + 1);
    at += 5;
  }
  scratch.set(value, at);
  at += n;
}

function writeMessage(m: PalmMessage): void {
  reserve(1);
  const trace = m.trace;
  scratch[at++] = trace === undefined ? 0x98 : 0x99;
  writeString(m.pipeline);
  writeString(m.client);
  if (Number.isInteger(m.stage)) writeInteger(m.stage);
  else writeFloat(m.stage);
  writeString(m.function);
  writeString(m.cache);
  writeBinary(m.payload);
  if (m.error === undefined) {
    reserve(1);
    scratch[at++] = 0xc0;
  } else writeString(m.error);
  if (m.id === undefined) {
    reserve(1);
    scratch[at++] = 0xc0;
  } else writeString(m.id);
  if (trace === NOT_SAMPLED) {
    // A call tracing did not sample (most of them): its `-` costs two bytes and no string copy.
    reserve(2);
    scratch[at++] = 0xa1;
    scratch[at++] = DASH;
  } else if (trace !== undefined) writeString(trace);
}

/** Writes the frame of `count` messages from `from`, returns it as a Buffer of its own. */
function encodeFrame(messages: readonly PalmMessage[]): Buffer {
  at = 0;
  writeArrayHeader(messages.length + 1);
  reserve(TAG_BYTES.length);
  TAG_BYTES.copy(scratch, at);
  at += TAG_BYTES.length;
  for (let i = 0; i < messages.length; i++) writeMessage(messages[i]!);
  // Small frames come from Node's shared pool; the copy is what lets `scratch` be reused at once.
  const frame = Buffer.allocUnsafe(at);
  scratch.copy(frame, 0, 0, at);
  return frame;
}

// ------------------------------------------------------------------------------------------- decoding

/** Returned by the hand-written decoder for a shape it does not take; msgpackr decodes those frames. */
const OTHER_SHAPE = -1;

/** `Buffer#utf8Slice`: what `toString("utf8")` calls, without its argument checks (Node ≥ 0.10). */
type Slice = (this: Buffer, start: number, end: number) => string;
const utf8Slice: Slice =
  (Buffer.prototype as unknown as { utf8Slice?: Slice }).utf8Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString("utf8", start, end);
  };

// The decoder's cursor: decoding is synchronous, so one set for the process (as msgpackr does).
const EMPTY = Buffer.alloc(0);
let src: Buffer = EMPTY;
let pos = 0;

function cut(): PalmError {
  return decodeError("the frame ends in the middle of a value");
}

/** The length of the string whose header is at `pos` (moving past the header), or OTHER_SHAPE. */
function stringLength(): number {
  if (pos >= src.length) throw cut();
  const type = src[pos]!;
  if (type >= 0xa0 && type <= 0xbf) {
    pos += 1;
    return type & 0x1f;
  }
  if (type === 0xd9) {
    if (pos + 2 > src.length) throw cut();
    pos += 2;
    return src[pos - 1]!;
  }
  if (type === 0xda) {
    if (pos + 3 > src.length) throw cut();
    pos += 3;
    return src.readUInt16BE(pos - 2);
  }
  if (type === 0xdb) {
    if (pos + 5 > src.length) throw cut();
    pos += 5;
    return src.readUInt32BE(pos - 4);
  }
  return OTHER_SHAPE;
}

/** A field that repeats from message to message (pipeline, client, function, cache): its last bytes and value. */
interface Repeated {
  start: number;
  length: number;
  value: string;
}

/**
 * The string at `pos` (undefined: another shape). When its bytes equal `last`'s, `last.value` is returned:
 * no new string, and the same instance each time (cheaper to hash and to keep).
 */
function repeatedString(last: Repeated): string | undefined {
  const length = stringLength();
  if (length === OTHER_SHAPE) return undefined;
  const start = pos;
  if (start + length > src.length) throw cut();
  pos += length;
  if (length === last.length && length <= 64) {
    let i = 0;
    while (i < length && src[start + i] === src[last.start + i]) i++;
    if (i === length) return last.value;
  }
  last.start = start;
  last.length = length;
  last.value = length === 0 ? "" : utf8Slice.call(src, start, pos);
  return last.value;
}

/** A string or nil at `pos` (null: another shape). */
function optionalString(): string | undefined | null {
  if (pos >= src.length) throw cut();
  if (src[pos] === 0xc0) {
    pos += 1;
    return undefined;
  }
  const length = stringLength();
  if (length === OTHER_SHAPE) return null;
  if (pos + length > src.length) throw cut();
  pos += length;
  return length === 0 ? "" : utf8Slice.call(src, pos - length, pos);
}

/** The number at `pos` (NaN: another shape). */
function number(): number {
  if (pos >= src.length) throw cut();
  const type = src[pos]!;
  if (type < 0x80) {
    pos += 1;
    return type;
  }
  if (type >= 0xe0) {
    pos += 1;
    return type - 0x100;
  }
  let size: number;
  switch (type) {
    case 0xcc:
      size = 2;
      break;
    case 0xcd:
      size = 3;
      break;
    case 0xce:
    case 0xd2:
      size = 5;
      break;
    case 0xcb:
      size = 9;
      break;
    default:
      return Number.NaN;
  }
  if (pos + size > src.length) throw cut();
  const at1 = pos + 1;
  pos += size;
  if (type === 0xcc) return src[at1]!;
  if (type === 0xcd) return src.readUInt16BE(at1);
  if (type === 0xce) return src.readUInt32BE(at1);
  if (type === 0xd2) return src.readInt32BE(at1);
  const value = src.readDoubleBE(at1);
  if (!Number.isFinite(value)) throw decodeError("a message field has the wrong type");
  return value;
}

/** The bytes at `pos`, as a view of the frame (undefined: another shape). */
function binary(): Buffer | undefined {
  if (pos >= src.length) throw cut();
  const type = src[pos]!;
  let length: number;
  if (type === 0xc4) {
    if (pos + 2 > src.length) throw cut();
    length = src[pos + 1]!;
    pos += 2;
  } else if (type === 0xc5) {
    if (pos + 3 > src.length) throw cut();
    length = src.readUInt16BE(pos + 1);
    pos += 3;
  } else if (type === 0xc6) {
    if (pos + 5 > src.length) throw cut();
    length = src.readUInt32BE(pos + 1);
    pos += 5;
  } else return undefined;
  if (pos + length > src.length) throw cut();
  pos += length;
  return src.subarray(pos - length, pos);
}

/** Decodes a frame in the shapes palm writes; undefined for anything else; throws when it is cut short. */
function decodeFast(frame: Buffer): PalmMessage[] | undefined {
  src = frame;
  pos = 0;
  if (frame.length === 0) throw cut();
  const head = frame[0]!;
  let count: number;
  if (head >= 0x90 && head <= 0x9f) {
    count = head & 0x0f;
    pos = 1;
  } else if (head === 0xdc) {
    if (frame.length < 3) throw cut();
    count = frame.readUInt16BE(1);
    pos = 3;
  } else if (head === 0xdd) {
    if (frame.length < 5) throw cut();
    count = frame.readUInt32BE(1);
    pos = 5;
  } else return undefined;
  if (pos + TAG_BYTES.length > frame.length) throw cut();
  for (let i = 0; i < TAG_BYTES.length; i++) if (frame[pos + i] !== TAG_BYTES[i]) return undefined;
  pos += TAG_BYTES.length;
  if (count < 2) return undefined;
  // Every message takes at least 10 bytes: a count the frame cannot hold is refused before allocating for it.
  if ((count - 1) * 10 > frame.length - pos) throw cut();
  const out: PalmMessage[] = new Array(count - 1);
  const pipelines: Repeated = { start: 0, length: -1, value: "" };
  const clients: Repeated = { start: 0, length: -1, value: "" };
  const functions: Repeated = { start: 0, length: -1, value: "" };
  const caches: Repeated = { start: 0, length: -1, value: "" };
  for (let k = 0; k < count - 1; k++) {
    if (pos >= frame.length) throw cut();
    const fields = frame[pos];
    if (fields !== 0x98 && fields !== 0x99) return undefined;
    pos++;
    const pipeline = repeatedString(pipelines);
    if (pipeline === undefined) return undefined;
    const client = repeatedString(clients);
    if (client === undefined) return undefined;
    const stage = number();
    if (Number.isNaN(stage)) return undefined;
    const fn = repeatedString(functions);
    if (fn === undefined) return undefined;
    const cache = repeatedString(caches);
    if (cache === undefined) return undefined;
    const payload = binary();
    if (payload === undefined) return undefined;
    const error = optionalString();
    if (error === null) return undefined;
    const id = optionalString();
    if (id === null) return undefined;
    let trace: string | undefined;
    if (fields === 0x99) {
      // A call tracing did not sample (`-`, most of them) decodes to the one constant, with no string made.
      if (pos + 2 <= frame.length && src[pos] === 0xa1 && src[pos + 1] === DASH) {
        pos += 2;
        trace = NOT_SAMPLED;
      } else {
        const value = optionalString();
        if (value === null) return undefined;
        trace = value;
      }
    }
    out[k] = { pipeline, client, stage, function: fn, cache, payload, error, id, trace };
  }
  if (pos !== frame.length) throw decodeError("bytes follow the last message");
  return out;
}

/** The generic path: any valid msgpack, checked field by field. */
function decodeAnyShape(frame: Buffer): PalmMessage[] {
  let value: unknown;
  try {
    value = unpackr.unpack(frame);
  } catch (error) {
    throw decodeError("not msgpack", error);
  }
  if (!Array.isArray(value) || value[0] !== MSGPACK_FRAME_TAG) {
    throw decodeError(`the frame does not start with the ${MSGPACK_FRAME_TAG} tag (wrong codec?)`);
  }
  if (value.length < 2) throw decodeError("the frame carries no message");
  const out: PalmMessage[] = new Array(value.length - 1);
  for (let i = 1; i < value.length; i++) out[i - 1] = fromTuple(value[i]);
  return out;
}

function fromTuple(t: unknown): PalmMessage {
  if (!Array.isArray(t) || (t.length !== 8 && t.length !== 9))
    throw decodeError("a message is not an 8- or 9-element tuple");
  const [pipeline, client, stage, fn, cache, payload, error, id, trace] = t;
  if (
    typeof pipeline !== "string" ||
    typeof client !== "string" ||
    typeof stage !== "number" ||
    !Number.isFinite(stage) ||
    typeof fn !== "string" ||
    typeof cache !== "string" ||
    !(payload instanceof Uint8Array) ||
    (error !== null && typeof error !== "string") ||
    (id !== null && typeof id !== "string") ||
    (trace !== undefined && trace !== null && typeof trace !== "string")
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
    trace: trace ?? undefined,
  };
}

function asBuffer(frame: Uint8Array): Buffer {
  if (Buffer.isBuffer(frame)) return frame;
  if (!(frame instanceof Uint8Array)) throw decodeError("a frame must be bytes");
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}

/**
 * palm's default codec: msgpack frames tagged `palm/1`, each carrying one or more messages. Frames without
 * the tag (garbage, a protobuf frame) are refused with `PALM_ERR_CODEC_DECODE`.
 */
export const msgpackCodec: Codec = {
  name: "msgpack",
  batches: true,
  encode(messages) {
    return [encodeFrame(messages)];
  },
  encodeOne(message) {
    return encodeFrame([message]);
  },
  decode(frame) {
    const bytes = asBuffer(frame);
    let fast: PalmMessage[] | undefined;
    try {
      fast = decodeFast(bytes);
    } catch (error) {
      if (error instanceof PalmError) throw error;
      throw decodeError("not msgpack", error);
    } finally {
      src = EMPTY;
    }
    return fast ?? decodeAnyShape(bytes);
  },
};
