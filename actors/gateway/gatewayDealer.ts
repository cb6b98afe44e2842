import { outboundPartMachine } from "../../machines/outboundPart.js";
import { createGatewayDealerBridge } from "../../src/bridges/httpGatewayLinks.js";
import { definePart } from "../../src/part.js";

const provided = outboundPartMachine.provide({ actors: { bridge: createGatewayDealerBridge() } });

/**
 * The outbound side of a gateway (pylm's `GatewayDealer`): what the router hands it — results, usually
 * from `WorkerPull` — goes back to the HttpGateway at its `inproc://` address, which answers each HTTP
 * client with its own result.
 *
 * @example
 * server.registerOutbound(GatewayDealer, "GatewayDealer", "inproc://gateway_router");
 */
export const GatewayDealer = definePart({
  partType: "GatewayDealer",
  role: "outbound",
  blocking: false,
  service: false,
  scheme: "zmq",
  summary: "Hands results back to the HttpGateway at its inproc:// address (pylm's `GatewayDealer`).",
  machine: outboundPartMachine,
  build: () => provided,
});
