import { socketPlan } from "../../src/bridges/socketPlans.js";
import { createWriterBridge } from "../../src/bridges/writerBridge.js";
import { definePart } from "../../src/part.js";
import { connections } from "../partKinds.js";

/**
 * Connects a PUSH socket that the server's code sends to directly with `server.sendBypass(part, messages)`,
 * bypassing the router (pylm's `PushBypassConnection`).
 */
export const PushBypassConnection = definePart("PushBypassConnection", connections.bypass, {
  summary:
    "Connects a PUSH socket the server's code sends to with sendBypass(), bypassing the router (pylm's `PushBypassConnection`).",
  bridge: createWriterBridge(socketPlan("push", false)),
});
