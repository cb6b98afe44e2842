import { createGatewayDealerBridge } from "../../src/bridges/httpGatewayLinks.js";
import { definePart } from "../../src/part.js";
import { connections } from "../partKinds.js";

/**
 * The outbound side of a gateway (pylm's `GatewayDealer`): what the router hands it — results, usually
 * from `WorkerPull` — goes back to the HttpGateway at its `inproc://` address, which answers each HTTP
 * client with its own result.
 *
 * @example
 * server.registerOutbound(GatewayDealer, "GatewayDealer", "inproc://gateway_router");
 */
export const GatewayDealer = definePart("GatewayDealer", connections.outbound, {
  summary: "Hands results back to the HttpGateway at its inproc:// address (pylm's `GatewayDealer`).",
  bridge: createGatewayDealerBridge(),
});
