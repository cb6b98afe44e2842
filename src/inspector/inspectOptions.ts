import { invalidOption } from "../errors.js";
import { checkInteger, checkListenOption } from "../validate.js";
import type { RedactHook } from "./messageHop.js";

/** Where a server's live inspector listens, and what it shows and records. */
export interface InspectOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** @default "127.0.0.1" */
  host?: string;
  /**
   * Also write everything the page shows to this JSON-lines trace (`palm inspect --replay FILE` plays it
   * back). Bounded: at `recordMaxBytes` the file is renamed to `FILE.1` and begun again. @default undefined
   */
  record?: string;
  /** The most bytes one trace file holds before it rotates. @default 33554432 (32 MiB) */
  recordMaxBytes?: number;
  /**
   * What the page may show of a message's payload: return the bytes or text to preview instead, or
   * `null` to show none. Sizes, ids, functions and clients are always shown. @default the payload's first 32 bytes
   */
  redact?: RedactHook;
  /**
   * The most message hops a second the inspector follows while a page is connected or a trace is recorded;
   * the rest are counted (`messages.sampled`) but not shown, which bounds its cost on the message path.
   * @default 1000
   */
  maxHopsPerSecond?: number;
}

const KEYS = new Set(["port", "host", "record", "recordMaxBytes", "redact", "maxHopsPerSecond"]);

/** Checks the `inspect` option of a server or worker; throws naming the option at fault. */
export function checkInspectOptions(value: unknown): InspectOptions {
  const options = checkListenOption<InspectOptions>("inspect", value, KEYS);
  if (options.record !== undefined && (typeof options.record !== "string" || options.record === ""))
    throw invalidOption("inspect.record", "a file path such as trace.jsonl", options.record);
  if (options.recordMaxBytes !== undefined)
    checkInteger("inspect.recordMaxBytes", options.recordMaxBytes, 4096);
  if (options.redact !== undefined && typeof options.redact !== "function")
    throw invalidOption("inspect.redact", "a function (message) => bytes, text or null", options.redact);
  if (options.maxHopsPerSecond !== undefined)
    checkInteger("inspect.maxHopsPerSecond", options.maxHopsPerSecond, 0);
  return options;
}
