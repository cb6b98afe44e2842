import { bypassPartMachine } from "../../machines/bypassPart.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { createWriterBridge } from "../../src/bridges/writerBridge.js";
import { definePart } from "../../src/part.js";

const provided = bypassPartMachine.provide({
  actors: { bridge: createWriterBridge(socketPlan("push", false)) },
});

/**
 * Connects a PUSH socket that the server's code sends to directly with `server.sendBypass(part, messages)`,
 * bypassing the router (pylm's `PushBypassConnection`).
 */
export const PushBypassConnection = definePart({
  partType: "PushBypassConnection",
  role: "bypass",
  blocking: false,
  service: false,
  scheme: "zmq",
  summary:
    "Connects a PUSH socket the server's code sends to with sendBypass(), bypassing the router (pylm's `PushBypassConnection`).",
  machine: bypassPartMachine,
  build: () => provided,
});
