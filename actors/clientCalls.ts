import { invalidOption, PalmError, RemoteError } from "../src/errors.js";
import { currentFunction, isBytes, type PalmMessage, splitFunction } from "../src/message.js";

/** The payload of a call, checked: bytes, or a clear error naming the call. */
export function checkPayload(payload: unknown, where: string): Uint8Array {
  if (!isBytes(payload)) {
    throw new TypeError(
      `${where}: a payload must be a Uint8Array or Buffer, got ${payload === null ? "null" : typeof payload}`,
    );
  }
  return payload;
}

/** Whether a job's payloads are a plain iterable (sent at once) rather than an async one. */
export function isSyncIterable<T>(value: Iterable<T> | AsyncIterable<T>): value is Iterable<T> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}

const QUALIFIED = /^[^.\s]+\.[^\s]+$/;

/** The wire form of a function (or pipeline of them); every entry must name its server (`server.fn`). */
export function functionName(fn: unknown, serverName: string): string {
  let entries: string[];
  if (Array.isArray(fn) && fn.length > 0 && fn.every((f) => typeof f === "string" && f.length > 0))
    entries = fn;
  else if (typeof fn === "string" && fn.length > 0) entries = fn.split(" ");
  else throw invalidOption("function", '"server.fn" or a list of them', fn);
  const bare = entries.find((entry) => !QUALIFIED.test(entry));
  if (bare !== undefined) {
    const hint = bare.includes(".") ? "" : `: name its server too, as in "${serverName}.${bare}"`;
    throw new PalmError(
      "PALM_ERR_OPTION_INVALID",
      `Expected \`function\` to be "server.fn" or a list of them, got ${JSON.stringify(bare)}${hint}`,
    );
  }
  return entries.join(" ");
}

/** Turns an error result into a `RemoteError` naming the server, the function and the cause. */
export function toRemoteError(message: PalmMessage, requested: string): RemoteError {
  const entry = currentFunction(message) || requested.split(" ")[0] || requested;
  const { server, fn } = splitFunction(entry);
  return new RemoteError(server, fn, message.error ?? "unknown error");
}
