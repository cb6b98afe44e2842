import { createDispatchServiceBridge } from "../../src/bridges/dispatchServiceBridge.js";
import { definePart } from "../../src/part.js";
import { services } from "../partKinds.js";

/** Options DispatchService reads from its registration, besides the common part options. */
export interface DispatchServiceOptions {
  /** The part workers' news (hello, results, beats, bye) goes to. */
  deliveryPart?: string;
  /** Where the part keeps its address once bound, so a restart binds the same one (set by `build`). */
  dispatchAddress?: { resolved: string | undefined };
}

/**
 * Binds the ROUTER palm workers connect to (a Master's `Dispatch`): each message goes to one named worker,
 * and what workers send (hello, results, heartbeats, bye) goes to the delivery part named by the
 * `deliveryPart` option. The bound address (a wildcard port resolved) is published in the server's cache
 * under `worker_dispatch_address`; a restart binds it again. No pylm counterpart (pylm workers use PUSH/PULL).
 */
export const DispatchService = definePart<DispatchServiceOptions>("DispatchService", services.outbound, {
  optionKeys: ["deliveryPart", "dispatchAddress"],
  // Worker-facing: a CURVE server checks its peers against `curve.workers`.
  peers: "workers",
  summary:
    "Binds the ROUTER palm workers connect to: each message to one named worker, with credit (no pylm counterpart).",
  bridge: createDispatchServiceBridge(),
  prepare: (environment) => {
    environment.options.dispatchAddress ??= { resolved: undefined };
  },
});
