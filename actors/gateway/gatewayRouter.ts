import { inboundPartMachine } from "../../machines/inboundPart.js";
import { createGatewayRouterBridge } from "../../src/bridges/httpGatewayLinks.js";
import { definePart } from "../../src/part.js";

const provided = inboundPartMachine.provide({ actors: { bridge: createGatewayRouterBridge() } });

/**
 * The inbound side of a gateway (pylm's `GatewayRouter`): takes the HttpGateway's requests from its
 * `inproc://` address and routes them, usually to `WorkerPush`. Held back by the router, the requests wait
 * in the gateway, and while it restarts they wait too: none is lost.
 *
 * @example
 * server.registerInbound(GatewayRouter, "GatewayRouter", "inproc://gateway_router", { route: "WorkerPush" });
 */
export const GatewayRouter = definePart({
  partType: "GatewayRouter",
  role: "inbound",
  blocking: false,
  service: true,
  scheme: "zmq",
  summary: "Routes the HttpGateway's requests, taken from its inproc:// address (pylm's `GatewayRouter`).",
  machine: inboundPartMachine,
  build: () => provided,
});
