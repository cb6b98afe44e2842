import { outboundPartMachine } from "../../machines/outboundPart.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { createWriterBridge } from "../../src/bridges/writerBridge.js";
import { definePart } from "../../src/part.js";

const provided = outboundPartMachine.provide({
  actors: { bridge: createWriterBridge(socketPlan("push", false)) },
});

/** Connects a PUSH socket to someone's PULL and pushes what the router hands it (pylm's `PushConnection`). */
export const PushConnection = definePart({
  partType: "PushConnection",
  role: "outbound",
  blocking: false,
  service: false,
  scheme: "zmq",
  summary:
    "Connects a PUSH socket to someone's PULL and pushes what the router hands it (pylm's `PushConnection`).",
  machine: outboundPartMachine,
  build: () => provided,
});
