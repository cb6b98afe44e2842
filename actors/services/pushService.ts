import { outboundPartMachine } from "../../machines/outboundPart.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { createWriterBridge } from "../../src/bridges/writerBridge.js";
import { definePart } from "../../src/part.js";

const provided = outboundPartMachine.provide({
  actors: { bridge: createWriterBridge(socketPlan("push", true)) },
});

/** Binds a PUSH socket and pushes what the router hands it to whoever connects (pylm's `PushService`). */
export const PushService = definePart({
  partType: "PushService",
  role: "outbound",
  blocking: false,
  service: true,
  scheme: "zmq",
  summary:
    "Binds a PUSH socket and pushes what the router hands it to whoever connects (pylm's `PushService`).",
  machine: outboundPartMachine,
  build: () => provided,
});
