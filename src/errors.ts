/**
 * palm's error catalog: every error palm raises is a `PalmError` with one of these stable codes.
 * Each code is documented in docs/errors.md; a test keeps the two in step.
 */
export const ErrorCodes = {
  /** An option given to a constructor or a registration is missing or has the wrong shape. */
  PALM_ERR_OPTION_INVALID: "PALM_ERR_OPTION_INVALID",
  /** A frame could not be decoded with the socket's codec (garbage, truncated, wrong codec). */
  PALM_ERR_CODEC_DECODE: "PALM_ERR_CODEC_DECODE",
  /** A frame is larger than `maxMessageSize`. */
  PALM_ERR_CODEC_OVERSIZED: "PALM_ERR_CODEC_OVERSIZED",
  /** Two parts of one server were registered under the same name. */
  PALM_ERR_TEMPLATE_DUPLICATE_PART: "PALM_ERR_TEMPLATE_DUPLICATE_PART",
  /** A part routes to a part that does not exist or cannot take messages. */
  PALM_ERR_TEMPLATE_UNKNOWN_ROUTE: "PALM_ERR_TEMPLATE_UNKNOWN_ROUTE",
  /** The server was started twice, or used after it stopped. */
  PALM_ERR_SERVER_STATE: "PALM_ERR_SERVER_STATE",
  /** A part could not bind or connect its socket (port in use, bad address). */
  PALM_ERR_PART_SOCKET: "PALM_ERR_PART_SOCKET",
  /** A part was crashed on purpose with `server.crash()`. */
  PALM_ERR_PART_CRASHED: "PALM_ERR_PART_CRASHED",
  /** A part's hook (`scatter`, `gather`, `handleStream`) threw. */
  PALM_ERR_PART_HOOK: "PALM_ERR_PART_HOOK",
  /** No part of that name exists. */
  PALM_ERR_PART_UNKNOWN: "PALM_ERR_PART_UNKNOWN",
  /** Restart intensity was exceeded; the server stopped every part. */
  PALM_ERR_SUPERVISOR_ESCALATED: "PALM_ERR_SUPERVISOR_ESCALATED",
  /** A remote call failed: the server or worker answered with an error. */
  PALM_ERR_REMOTE: "PALM_ERR_REMOTE",
  /** A call got no answer in time. */
  PALM_ERR_TIMEOUT: "PALM_ERR_TIMEOUT",
  /** The server's cache answered a name other than the one the client expected. */
  PALM_ERR_CLIENT_WRONG_SERVER: "PALM_ERR_CLIENT_WRONG_SERVER",
  /** The client or worker was used before `start()` or after `stop()`. */
  PALM_ERR_CLIENT_STATE: "PALM_ERR_CLIENT_STATE",
  /** The server stopped (or went away) while the call was pending. */
  PALM_ERR_SERVER_STOPPED: "PALM_ERR_SERVER_STOPPED",
  /** A `set` or `delete` of a cache key the server preset for discovery (`name`, `*_address`, …): read-only. */
  PALM_ERR_CACHE_READ_ONLY: "PALM_ERR_CACHE_READ_ONLY",
  /** A call reached a server that has no worker connected to run it. */
  PALM_ERR_NO_WORKERS: "PALM_ERR_NO_WORKERS",
  /** The server cut this client's result stream off: it stopped reading for longer than `slowConsumerMs`. */
  PALM_ERR_SLOW_CONSUMER: "PALM_ERR_SLOW_CONSUMER",
} as const;

/** One of palm's stable error codes. */
export type ErrorCode = keyof typeof ErrorCodes;

/** Every error palm raises on purpose. `code` is stable; `message` is for people. */
export class PalmError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PalmError";
    this.code = code;
  }
}

/** A call that failed on the far side: names the server, the function and the cause. */
export class RemoteError extends PalmError {
  readonly server: string;
  readonly function: string;
  readonly remoteCause: string;
  /**
   * A cause that starts with one of palm's codes and a colon (`PALM_ERR_TIMEOUT: …`, see `remoteErrorText`)
   * gives the error that code; any other cause (a user function's error) gives `PALM_ERR_REMOTE`.
   */
  constructor(server: string, fn: string, cause: string) {
    super(remoteCode(cause), `${server}.${fn} failed: ${cause}`);
    this.name = "RemoteError";
    this.server = server;
    this.function = fn;
    this.remoteCause = cause;
  }
}

const CODED_CAUSE = /^(PALM_ERR_[A-Z_]+): /;

/** The code an error result's text carries (`PALM_ERR_X: …`), or `PALM_ERR_REMOTE`. */
export function remoteCode(cause: string): ErrorCode {
  const code = CODED_CAUSE.exec(cause)?.[1];
  return code !== undefined && code in ErrorCodes ? (code as ErrorCode) : "PALM_ERR_REMOTE";
}

/** The text of an error result that carries one of palm's codes to the caller (`RemoteError.code`). */
export function remoteErrorText(code: ErrorCode, text: string): string {
  return `${code}: ${text}`;
}

/** What a thrown value says in an error result: `Error: boom` (its name and message), or the value as text. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Narrows an unknown error to a `PalmError`, optionally of one code. */
export function isPalmError(error: unknown, code?: ErrorCode): error is PalmError {
  return error instanceof PalmError && (code === undefined || error.code === code);
}

/** Describes a value for an error message: `5555` (number). */
export function describeValue(value: unknown): string {
  if (value === null) return "`null`";
  if (value === undefined) return "`undefined`";
  if (typeof value === "string") return `\`${JSON.stringify(value)}\` (string)`;
  if (typeof value === "object") return `an ${value.constructor?.name ?? "object"}`;
  return `\`${String(value)}\` (${typeof value})`;
}

/** The error for an option of the wrong shape, naming the option, the shape expected and the value. */
export function invalidOption(option: string, expected: string, value: unknown): PalmError {
  return new PalmError(
    "PALM_ERR_OPTION_INVALID",
    `Expected \`${option}\` to be ${expected}, got ${describeValue(value)}`,
  );
}
