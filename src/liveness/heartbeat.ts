import { createMessage, type PalmMessage } from "../message.js";

/**
 * The reserved function name of a worker's heartbeat. Workers push heartbeats to the master's worker PULL
 * with their results; the master consumes them there and never forwards them. The `~` keeps the name out
 * of any server's namespace (clients cannot call a server named `~palm`).
 */
export const HEARTBEAT_FUNCTION = "~palm.heartbeat";

/** What a heartbeat says about its worker (its payload, as JSON). */
export interface HeartbeatInfo {
  /** The worker's name (several workers may share one). */
  readonly name: string;
  readonly pid: number;
  readonly host: string;
  /** How often the worker sends heartbeats. */
  readonly intervalMs: number;
  /** Counts the worker's heartbeats from 1; 1 announces a worker that just started. */
  readonly seq: number;
}

/** A worker's heartbeat: `client` is the worker's id, the payload its `HeartbeatInfo`. */
export function heartbeatMessage(workerId: string, info: HeartbeatInfo): PalmMessage {
  return createMessage({
    function: HEARTBEAT_FUNCTION,
    client: workerId,
    pipeline: workerId,
    payload: Buffer.from(JSON.stringify(info)),
  });
}

/** Whether a message is a heartbeat (it must never reach a client). */
export function isHeartbeat(message: PalmMessage): boolean {
  return message.function === HEARTBEAT_FUNCTION;
}

/** Reads a heartbeat; undefined if it is malformed (a forged or corrupted one is ignored, never trusted). */
export function readHeartbeat(message: PalmMessage): { id: string; info: HeartbeatInfo } | undefined {
  if (!message.client || message.client.length > 200 || message.payload.length > 4096) return undefined;
  let info: unknown;
  try {
    info = JSON.parse(Buffer.from(message.payload).toString("utf8"));
  } catch {
    return undefined;
  }
  const i = info as Partial<HeartbeatInfo> | null;
  if (
    !i ||
    typeof i !== "object" ||
    typeof i.name !== "string" ||
    typeof i.pid !== "number" ||
    typeof i.host !== "string" ||
    typeof i.intervalMs !== "number" ||
    typeof i.seq !== "number"
  ) {
    return undefined;
  }
  return {
    id: message.client,
    info: { name: i.name, pid: i.pid, host: i.host, intervalMs: i.intervalMs, seq: i.seq },
  };
}
