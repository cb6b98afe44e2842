import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";
import { connections } from "../partKinds.js";

/** Connects a PULL socket to someone's PUSH; what it pulls goes to the router (pylm's `PullConnection`). */
export const PullConnection = definePart("PullConnection", connections.inbound, {
  summary:
    "Connects a PULL socket to someone's PUSH; what it pulls goes to the router (pylm's `PullConnection`).",
  bridge: createReaderBridge(socketPlan("pull", false), 1),
});
