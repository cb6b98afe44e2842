/**
 * What the Moleculer bench processes share: their configuration and the broker every one of them starts
 * (TCP transporter, static node list, no UDP discovery, no logging), so the peer runs as a user would set
 * it up on one machine.
 */
import moleculer from "moleculer";
import { readChildConfig } from "./bench-child.js";

/** One Moleculer node of the bench: its id and the loopback port its TCP transporter listens on. */
export interface MoleculerNode {
  readonly nodeID: string;
  readonly port: number;
}

/** The service the master-like broker offers the caller: `master.eval` forwards to `worker.echo`. */
export const MOLECULER_MASTER_ACTION = "master.eval";

/** The action each worker service offers: it returns its parameters. */
export const MOLECULER_WORKER_ACTION = "worker.echo";

/** What a call carries: the message's index and a string payload of the bench's size (JSON serializer). */
export interface MoleculerParams {
  readonly i: number;
  readonly p: string;
}

/** Configuration shared by every Moleculer bench process. */
export interface MoleculerNodeConfig {
  /** Every node of the run (master, workers, caller); each process finds itself by `nodeID`. */
  readonly endpoints: readonly MoleculerNode[];
  readonly nodeID: string;
}

/** Configuration of the master-like broker. */
export interface MoleculerMasterConfig extends MoleculerNodeConfig {
  /** Worker nodes whose `worker` service must be available before the master reports `workers`. */
  readonly workers: number;
}

/** Configuration of the caller, the Moleculer counterpart of a palm `Client` job. */
export interface MoleculerClientConfig extends MoleculerNodeConfig {
  readonly messages: number;
  readonly warmup: number;
  readonly payload: number;
  readonly roundTrips: number;
  readonly roundTripWarmup: number;
  /** Calls in flight during the throughput phase (palm's job window). */
  readonly window: number;
  /** A call without an answer after this long fails (counted as lost). */
  readonly idleTimeoutMs: number;
}

/** Reads a Moleculer bench process's configuration (see {@link readChildConfig}). */
export function readMoleculerConfig<T extends MoleculerNodeConfig>(role: string): T {
  return readChildConfig<T>(role);
}

/** A broker for `config.nodeID` on the TCP transporter, knowing every other node of the run by address. */
export function createBroker(config: MoleculerNodeConfig, requestTimeoutMs = 0): moleculer.ServiceBroker {
  const self = config.endpoints.find((node) => node.nodeID === config.nodeID);
  if (!self) throw new Error(`Node ${config.nodeID} is not in the bench's node list`);
  return new moleculer.ServiceBroker({
    nodeID: config.nodeID,
    logger: false,
    requestTimeout: requestTimeoutMs,
    transporter: {
      type: "TCP",
      options: {
        udpDiscovery: false,
        port: self.port,
        urls: config.endpoints.map((node) => `127.0.0.1:${node.port}/${node.nodeID}`),
        gossipPeriod: 1,
      },
    },
  });
}
