import { blockingOutboundPartMachine } from "../../machines/blockingOutboundPart.js";
import { createRequestBridge } from "../../src/bridges/requestBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";

const provided = blockingOutboundPartMachine.provide({
  actors: { bridge: createRequestBridge(socketPlan("req", false)) },
});

/** Connects a REQ socket to an external REP service; each message waits for its answer, the feedback (pylm's `ReqConnection`). Only this part waits. */
export const ReqConnection = definePart({
  partType: "ReqConnection",
  role: "outbound",
  blocking: true,
  service: false,
  scheme: "zmq",
  summary:
    "Connects a REQ socket to an external REP service; each message waits for its answer, the feedback (pylm's `ReqConnection`). Only this part waits.",
  machine: blockingOutboundPartMachine,
  build: () => provided,
});
