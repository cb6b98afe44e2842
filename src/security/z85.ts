import { PalmError } from "../errors.js";

// ZeroMQ's Z85 encoding (RFC 32): 4 bytes ↔ 5 printable characters. CURVE keys are 32 bytes, 40 characters.
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Encodes bytes (a multiple of 4 long) as Z85 text. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) {
    throw new PalmError("PALM_ERR_OPTION_INVALID", `Z85 encodes a multiple of 4 bytes, got ${bytes.length}`);
  }
  let out = "";
  for (let at = 0; at < bytes.length; at += 4) {
    let value = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
    const chunk = new Array<string>(5);
    for (let k = 4; k >= 0; k--) {
      chunk[k] = ALPHABET[value % 85]!;
      value = Math.floor(value / 85);
    }
    out += chunk.join("");
  }
  return out;
}

/** Decodes Z85 text (a multiple of 5 long); undefined if it is not Z85. */
export function z85Decode(text: string): Uint8Array | undefined {
  if (text.length % 5 !== 0) return undefined;
  const out = new Uint8Array((text.length / 5) * 4);
  for (let at = 0, o = 0; at < text.length; at += 5) {
    let value = 0;
    for (let k = 0; k < 5; k++) {
      const code = text.charCodeAt(at + k);
      const digit = code < 128 ? DECODE[code]! : -1;
      if (digit < 0) return undefined;
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) return undefined;
    out[o++] = (value >>> 24) & 0xff;
    out[o++] = (value >>> 16) & 0xff;
    out[o++] = (value >>> 8) & 0xff;
    out[o++] = value & 0xff;
  }
  return out;
}
