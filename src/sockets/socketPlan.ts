import type { SocketOptions } from "zeromq";
import type { PeerEvent } from "../liveness/peerCount.js";

/** The ZeroMQ socket types palm's parts use. */
export type SocketKind = "pull" | "push" | "pub" | "sub" | "rep" | "req" | "router" | "dealer";

/** CURVE settings for one socket: a server keypair, or a client keypair plus the server's public key. */
export interface CurveSocketOptions {
  readonly publicKey: string;
  readonly secretKey: string;
  /** Set on the connecting side: the public key of the server it connects to. */
  readonly serverKey?: string;
}

/** Everything needed to open one part's socket. */
export interface SocketPlan {
  readonly kind: SocketKind;
  readonly address: string;
  readonly bind: boolean;
  /** SUB topics (empty string: everything). */
  readonly subscribe?: readonly string[];
  /** ZMQ_MAXMSGSIZE on receiving sockets: a peer sending more is disconnected. */
  readonly maxMessageSize?: number;
  /** ZMQ_SNDHWM / ZMQ_RCVHWM. */
  readonly highWaterMark?: number;
  readonly curve?: CurveSocketOptions;
  /** ZAP domain checked by the server's authenticator, for CURVE servers. */
  readonly zapDomain?: string;
  /** Told about peers connecting and leaving a bound socket (from its monitor), e.g. a master's worker PUSH. */
  readonly observePeers?: (event: PeerEvent) => void;
  /**
   * A ROUTER reads `[routing id, empty frame]` when an established peer disconnects (libzmq's
   * ZMQ_ROUTER_NOTIFY with ZMQ_NOTIFY_DISCONNECT), so it can forget what it kept for a peer that is gone.
   */
  readonly notifyDisconnect?: boolean;
  /** Extra zeromq.js socket options. */
  readonly options?: Partial<SocketOptions<never>>;
}
