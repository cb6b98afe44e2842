import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";
import { services } from "../partKinds.js";

/** Binds a PULL socket; every message pushed to it goes to the router (pylm's `PullService`). */
export const PullService = definePart("PullService", services.inbound, {
  summary: "Binds a PULL socket; every message pushed to it goes to the router (pylm's `PullService`).",
  bridge: createReaderBridge(socketPlan("pull", true), 1),
});
