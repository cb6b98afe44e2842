import { socketPlan } from "../../src/bridges/socketPlans.js";
import { createWriterBridge } from "../../src/bridges/writerBridge.js";
import { definePart } from "../../src/part.js";
import { services } from "../partKinds.js";

/** Options WorkerPushService reads from its registration, besides the common part options. */
export interface WorkerPushServiceOptions {
  /** Cut a burst into several frames, so it is shared among the workers. @default true */
  spread?: boolean;
  /** The part told how many peers are connected (a Master's delivery part: pylm workers' capacity). */
  peersTo?: string;
}

/**
 * Binds the PUSH socket workers pull their work from; messages pass unchanged (pylm's `WorkerPushService`).
 * A burst is cut into several frames (option `spread`, on by default) so it is shared among the workers.
 */
export const WorkerPushService = definePart<WorkerPushServiceOptions>(
  "WorkerPushService",
  services.outbound,
  {
    optionKeys: ["spread", "peersTo"],
    peers: "workers",
    summary:
      "Binds the PUSH socket workers pull their work from; messages pass unchanged (pylm's `WorkerPushService`).",
    bridge: createWriterBridge(socketPlan("push", true)),
    prepare: (environment) => {
      // Deal bursts out over the workers: a batch goes as several frames, each to the next worker.
      environment.options.spread = environment.options.spread ?? true;
    },
  },
);
