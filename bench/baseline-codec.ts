import { Packr } from "msgpackr";
import type { BaselineMode } from "./baseline-config.js";

/** The message the baseline moves: the PalmMessage fields plus its delivery id, as a plain msgpack map. */
export interface BenchMessage {
  pipeline: string;
  client: string;
  stage: number;
  function: string;
  cache: string;
  payload: Uint8Array;
  id: string;
}

/** The `function` of a probe: the master answers it straight to the client once every worker is connected. */
export const PROBE_FUNCTION = "bench.probe";

/** The `function` of real work: workers echo the payload. */
export const ECHO_FUNCTION = "bench.echo";

// Standard msgpack (no record extension), one packer per process; msgpackr never reuses the
// bytes of a buffer it has returned, so frames stay valid while zeromq holds them.
const packr = new Packr({ useRecords: false });

/** One message, one frame (`plain`). */
export function encodeMessage(message: BenchMessage): Buffer {
  return packr.pack(message);
}

/** Several messages in one frame, a msgpack array (`batched`). */
export function encodeBatch(messages: readonly BenchMessage[]): Buffer {
  return packr.pack(messages);
}

/** The messages a frame carries, by mode. Throws on a frame that is not what the mode expects. */
export function decodeFrame(mode: BaselineMode, frame: Uint8Array): BenchMessage[] {
  const value: unknown = packr.unpack(frame);
  if (mode === "batched") {
    if (!Array.isArray(value)) throw new Error("A batched frame must hold a msgpack array of messages");
    return value as BenchMessage[];
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("A plain frame must hold one msgpack message map");
  }
  return [value as BenchMessage];
}
