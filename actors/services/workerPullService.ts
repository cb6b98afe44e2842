import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";
import { services } from "../partKinds.js";

/** Binds the PULL socket workers push their results to; messages pass unchanged (pylm's `WorkerPullService`). */
export const WorkerPullService = definePart("WorkerPullService", services.inbound, {
  peers: "workers",
  summary:
    "Binds the PULL socket workers push their results to; messages pass unchanged (pylm's `WorkerPullService`).",
  bridge: createReaderBridge(socketPlan("pull", true), 1),
});
