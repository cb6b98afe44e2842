import { socketPlan } from "../../src/bridges/socketPlans.js";
import { createWriterBridge } from "../../src/bridges/writerBridge.js";
import { definePart } from "../../src/part.js";
import { connections } from "../partKinds.js";

/** Connects a PUSH socket to someone's PULL and pushes what the router hands it (pylm's `PushConnection`). */
export const PushConnection = definePart("PushConnection", connections.outbound, {
  summary:
    "Connects a PUSH socket to someone's PULL and pushes what the router hands it (pylm's `PushConnection`).",
  bridge: createWriterBridge(socketPlan("push", false)),
});
