import type { SocketKind } from "./socketPlan.js";

/** A socket operation that can fail. */
export type SocketOperation = "receive" | "send";

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Whether a socket error is one a peer can provoke, rather than a failure of the local socket. A peer's
 * bad input is the peer's problem: the part counts it as a bad frame and goes on. Only local failures
 * (a closed context, a bug, an exhausted resource) fail the part so that its router restarts it.
 *
 * - `EAGAIN` on a receive: the socket said it was readable, yet libzmq dropped what arrived, e.g. a REP
 *   or ROUTER given a message without a valid envelope by a DEALER or raw peer.
 * - `EHOSTUNREACH` on a ROUTER's send (with ZMQ_ROUTER_MANDATORY): the addressed peer is gone.
 */
export function isPeerFault(error: unknown, kind: SocketKind, operation: SocketOperation): boolean {
  const code = codeOf(error);
  if (operation === "receive") return code === "EAGAIN";
  return kind === "router" && code === "EHOSTUNREACH";
}

/** The reason logged and counted for a peer fault. */
export function peerFaultReason(error: unknown, operation: SocketOperation): string {
  const code = codeOf(error) ?? "unknown";
  return operation === "receive"
    ? `a peer's message was dropped by ZeroMQ (${code}: malformed envelope)`
    : `the addressed peer is gone (${code})`;
}
