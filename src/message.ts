/** The one message every palm server, worker and client exchanges (pylm's `PalmMessage`). */
export interface PalmMessage {
  /** Id of the stream a client started; lets servers keep several streams apart. */
  pipeline: string;
  /** Id of the client that started the stream; results are routed back by it. */
  client: string;
  /** Step of the pipeline the message is at; clients start at 0. */
  stage: number;
  /** `server.fn`, or several `server.fn` separated by single spaces, one per stage. */
  function: string;
  /** Utility key: the key of cache calls; also a per-message id servers use internally. */
  cache: string;
  /** The user's data; palm never interprets it. */
  payload: Uint8Array;
  /** Set when the call failed: the cause, as text (protobuf field 7; pylm peers ignore it). */
  error?: string | undefined;
  /** Delivery id a master owns while the message is in flight (protobuf field 8). */
  id?: string | undefined;
  /**
   * The W3C `traceparent` of the span that passed the message on, when tracing is on (protobuf field 9;
   * pylm peers keep it and send it back).
   */
  trace?: string | undefined;
}

const EMPTY = new Uint8Array(0);

/**
 * What a call's messages carry as `trace` once its first hop's sampler said no: every later hop passes them
 * on unchanged, and each frame carries one byte for it instead of a 55-character `traceparent`.
 */
export const NOT_SAMPLED = "-";

/** Builds a message, filling every field not given with its empty value. */
export function createMessage(fields: Partial<PalmMessage> = {}): PalmMessage {
  return {
    pipeline: fields.pipeline ?? "",
    client: fields.client ?? "",
    stage: fields.stage ?? 0,
    function: fields.function ?? "",
    cache: fields.cache ?? "",
    payload: fields.payload ?? EMPTY,
    error: fields.error,
    id: fields.id,
    trace: fields.trace,
  };
}

/** Returns a copy of `message` answered with `error` instead of a payload (an error result). */
export function failedMessage(message: PalmMessage, error: string): PalmMessage {
  return { ...message, payload: EMPTY, error };
}

/** Returns a copy of `message` carrying `payload` (pylm's `change_payload`). */
export function changePayload(message: PalmMessage, payload: Uint8Array): PalmMessage {
  return { ...message, payload };
}

/** The `server.fn` entry a message names at its current stage. */
export function currentFunction(message: PalmMessage): string {
  const fn = message.function;
  if (fn.indexOf(" ") === -1) return fn;
  return fn.split(" ")[message.stage] ?? "";
}

/** Splits `server.fn` into its server and function names (the function may be empty). */
export function splitFunction(entry: string): { server: string; fn: string } {
  const dot = entry.indexOf(".");
  if (dot === -1) return { server: entry, fn: "" };
  return { server: entry.slice(0, dot), fn: entry.slice(dot + 1) };
}

/** Whether `value` is a byte array palm accepts as a payload. */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** Whether a value (a user hook's answer) has the shape of a message: a `function` name and `payload` bytes. */
export function isMessage(value: unknown): value is PalmMessage {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as PalmMessage).function === "string" &&
    isBytes((value as PalmMessage).payload)
  );
}
