import { createGatewayRouterBridge } from "../../src/bridges/httpGatewayLinks.js";
import { definePart } from "../../src/part.js";
import { services } from "../partKinds.js";

/**
 * The inbound side of a gateway (pylm's `GatewayRouter`): takes the HttpGateway's requests from its
 * `inproc://` address and routes them, usually to `WorkerPush`. Held back by the router, the requests wait
 * in the gateway, and while it restarts they wait too: none is lost.
 *
 * @example
 * server.registerInbound(GatewayRouter, "GatewayRouter", "inproc://gateway_router", { route: "WorkerPush" });
 */
export const GatewayRouter = definePart("GatewayRouter", services.inbound, {
  summary: "Routes the HttpGateway's requests, taken from its inproc:// address (pylm's `GatewayRouter`).",
  bridge: createGatewayRouterBridge(),
});
