import type { PartEnvironment } from "../part.js";
import type { SocketKind, SocketPlan } from "../sockets/socketPlan.js";

/** Default ZMQ_MAXMSGSIZE of palm's receiving sockets: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

/** The socket plan of a part: its kind, whether it binds, and the options of its registration. */
export function socketPlan(kind: SocketKind, bind: boolean) {
  return (environment: PartEnvironment): SocketPlan => {
    const { options } = environment;
    const curve = options.curve ?? environment.curve;
    return {
      kind,
      bind,
      address: environment.address,
      maxMessageSize: options.maxMessageSize ?? environment.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      highWaterMark: options.highWaterMark,
      subscribe: options.subscribe,
      curve,
      // Only a CURVE server (no `serverKey`) asks the authenticator about its peers.
      zapDomain: curve && !curve.serverKey ? environment.zapDomain : undefined,
      observePeers: options.observePeers,
    };
  };
}
