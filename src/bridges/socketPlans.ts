import type { PartEnvironment } from "../part.js";
import { NULL_ZAP_DOMAIN } from "../security/zapHandler.js";
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
      // A CURVE server (no `serverKey`) asks the server's authenticator about its peers; a plain-text bound
      // tcp socket names a ZAP domain too, only so that libzmq refuses legacy ZMTP 1.0/2.0 peers.
      zapDomain: curve
        ? curve.serverKey
          ? undefined
          : environment.zapDomain
        : bind && environment.address.startsWith("tcp://")
          ? NULL_ZAP_DOMAIN
          : undefined,
      observePeers: options.observePeers,
    };
  };
}
