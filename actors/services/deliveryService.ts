import { deliveryMachine } from "../../machines/delivery.js";
import type { DeliveryLedger } from "../../machines/deliveryLedger.js";
import { definePart } from "../../src/part.js";

/** Options DeliveryService reads from its registration, besides the common part options. */
export interface DeliveryServiceOptions {
  /** The ledger the part keeps across its restarts (created by the server). */
  keep?: DeliveryLedger;
}

/**
 * A Master's delivery guarantees as a part without a socket: the in-flight ledger (passed as the `keep`
 * option, so it outlives restarts), exact ownership, credits, liveness, deadlines and redelivery. Clients'
 * messages and workers' results and news are routed to it; it routes work to `Dispatch` (palm workers)
 * or the worker PUSH (pylm workers), and results to the publisher. No pylm counterpart.
 */
export const DeliveryService = definePart<DeliveryServiceOptions>({
  partType: "DeliveryService",
  optionKeys: ["keep"],
  role: "outbound",
  blocking: false,
  service: true,
  scheme: "zmq",
  summary:
    "A Master's in-flight ledger, credits, worker liveness and deadlines as a supervised actor (no socket).",
  machine: deliveryMachine,
  build: () => deliveryMachine,
});
