import type { PalmMessage } from "../../src/message.js";
import { checkName } from "../../src/validate.js";
import { SubConnection } from "../connections/subConnection.js";
import {
  type DistributingHooks,
  type DistributingOptions,
  DistributingServer,
  type ServerCommonOptions,
} from "./master.js";
import { COMMON_BINDS, HUB_KEYS } from "./optionKeys.js";
import { checkServerOptions } from "./palmServer.js";
import { checkOptionalBoolean } from "./server.js";

/**
 * Options of a `Hub` (pylm's `Hub(name, sub_address, pub_address, worker_pull_address, worker_push_address,
 * db_address, previous, pipelined)`).
 */
export interface HubOptions extends ServerCommonOptions, DistributingHooks, DistributingOptions {
  /** The previous server's PUB (SUB, connected). */
  subAddress: string;
  /** Where results are published (PUB, bound). */
  pubAddress: string;
  /** Where workers push results (PULL, bound). */
  workerPullAddress: string;
  /** Where workers pull work (PUSH, bound). */
  workerPushAddress: string;
  /** The topic to subscribe to: the previous server's name, or a topic its `handleStream` publishes under. */
  previous: string;
}

/** The addresses a Hub checks and publishes in its cache. */
const HUB_ADDRESSES = [
  "subAddress",
  "pubAddress",
  "workerPullAddress",
  "workerPushAddress",
  "dbAddress",
] as const;

/**
 * A pipelined master (pylm's `Hub`): it is fed by another server's publisher — the topic `previous` at
 * `subAddress` — instead of by clients, distributes the messages to any number of `Worker` processes and
 * publishes their results to the client, or (`pipelined`) to a next stage. Hooks as `Master`.
 *
 * @example
 * const hub = new Hub({ name: "hub", subAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress, previous: "server" });
 * await hub.start();
 */
export class Hub extends DistributingServer {
  constructor(options: HubOptions) {
    const checked = checkServerOptions(options, {
      owner: "Hub",
      known: HUB_KEYS,
      addresses: HUB_ADDRESSES,
      binds: [
        "pubAddress",
        "workerPullAddress",
        "workerPushAddress",
        ...COMMON_BINDS,
        "workerDispatchAddress",
      ],
    });
    checkName("previous", checked.previous);
    checkOptionalBoolean("pipelined", checked.pipelined);
    super({ ...checked, intake: "Sub" });
    const inbound = this.inboundOptions();
    this.template.registerInbound(SubConnection, "Sub", checked.subAddress, {
      ...inbound,
      // A message that failed upstream is not run again: it goes straight on to the publisher.
      scatter: (message: PalmMessage) => (message.error !== undefined ? [message] : inbound.scatter(message)),
      previous: checked.previous,
    });
    this.registerWorkerParts(checked);
    this.presetAddresses(checked.cache, checked, HUB_ADDRESSES);
  }
}
