import { blockingInboundPartMachine } from "../../machines/blockingInboundPart.js";
import { createReplyBridge } from "../../src/bridges/replyBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";

const provided = blockingInboundPartMachine.provide({
  actors: { bridge: createReplyBridge(socketPlan("rep", true)) },
});

/** Binds a REP socket; each request goes to the router and is answered with the feedback of its route (pylm's `RepService`). */
export const RepService = definePart({
  partType: "RepService",
  role: "inbound",
  blocking: true,
  service: true,
  scheme: "zmq",
  summary:
    "Binds a REP socket; each request goes to the router and is answered with the feedback of its route (pylm's `RepService`).",
  machine: blockingInboundPartMachine,
  build: () => provided,
});
