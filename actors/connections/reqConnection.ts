import { createRequestBridge } from "../../src/bridges/requestBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";
import { connections } from "../partKinds.js";

/** Connects a REQ socket to an external REP service; each message waits for its answer, the feedback (pylm's `ReqConnection`). Only this part waits. */
export const ReqConnection = definePart("ReqConnection", connections.blockingOutbound, {
  summary:
    "Connects a REQ socket to an external REP service; each message waits for its answer, the feedback (pylm's `ReqConnection`). Only this part waits.",
  bridge: createRequestBridge(socketPlan("req", false)),
});
