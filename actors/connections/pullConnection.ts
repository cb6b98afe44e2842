import { inboundPartMachine } from "../../machines/inboundPart.js";
import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";

const provided = inboundPartMachine.provide({
  actors: { bridge: createReaderBridge(socketPlan("pull", false), 1) },
});

/** Connects a PULL socket to someone's PUSH; what it pulls goes to the router (pylm's `PullConnection`). */
export const PullConnection = definePart({
  partType: "PullConnection",
  role: "inbound",
  blocking: false,
  service: false,
  scheme: "zmq",
  summary:
    "Connects a PULL socket to someone's PUSH; what it pulls goes to the router (pylm's `PullConnection`).",
  machine: inboundPartMachine,
  build: () => provided,
});
