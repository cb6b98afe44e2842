import { inboundPartMachine } from "../../machines/inboundPart.js";
import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";

const provided = inboundPartMachine.provide({
  actors: { bridge: createReaderBridge(socketPlan("pull", true), 1) },
});

/** Binds a PULL socket; every message pushed to it goes to the router (pylm's `PullService`). */
export const PullService = definePart({
  partType: "PullService",
  role: "inbound",
  blocking: false,
  service: true,
  scheme: "zmq",
  summary: "Binds a PULL socket; every message pushed to it goes to the router (pylm's `PullService`).",
  machine: inboundPartMachine,
  build: () => provided,
});
