import { socketPlan } from "../../src/bridges/socketPlans.js";
import { createWriterBridge } from "../../src/bridges/writerBridge.js";
import { definePart } from "../../src/part.js";
import { services } from "../partKinds.js";

/** Binds a PUSH socket and pushes what the router hands it to whoever connects (pylm's `PushService`). */
export const PushService = definePart("PushService", services.outbound, {
  summary:
    "Binds a PUSH socket and pushes what the router hands it to whoever connects (pylm's `PushService`).",
  bridge: createWriterBridge(socketPlan("push", true)),
});
