import { createReplyBridge } from "../../src/bridges/replyBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";
import { connections } from "../partKinds.js";

/** Connects a REP socket to someone's REQ and answers each request with its route's feedback (pylm's `RepConnection`). */
export const RepConnection = definePart("RepConnection", connections.blockingInbound, {
  summary:
    "Connects a REP socket to someone's REQ and answers each request with its route's feedback (pylm's `RepConnection`).",
  bridge: createReplyBridge(socketPlan("rep", false)),
});
