import { blockingInboundPartMachine } from "../../machines/blockingInboundPart.js";
import { createReplyBridge } from "../../src/bridges/replyBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";

const provided = blockingInboundPartMachine.provide({
  actors: { bridge: createReplyBridge(socketPlan("rep", false)) },
});

/** Connects a REP socket to someone's REQ and answers each request with its route's feedback (pylm's `RepConnection`). */
export const RepConnection = definePart({
  partType: "RepConnection",
  role: "inbound",
  blocking: true,
  service: false,
  scheme: "zmq",
  summary:
    "Connects a REP socket to someone's REQ and answers each request with its route's feedback (pylm's `RepConnection`).",
  machine: blockingInboundPartMachine,
  build: () => provided,
});
