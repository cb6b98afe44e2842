import { createReplyBridge } from "../../src/bridges/replyBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";
import { services } from "../partKinds.js";

/** Binds a REP socket; each request goes to the router and is answered with the feedback of its route (pylm's `RepService`). */
export const RepService = definePart("RepService", services.blockingInbound, {
  summary:
    "Binds a REP socket; each request goes to the router and is answered with the feedback of its route (pylm's `RepService`).",
  bridge: createReplyBridge(socketPlan("rep", true)),
});
