import { inboundPartMachine } from "../../machines/inboundPart.js";
import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";

const provided = inboundPartMachine.provide({
  actors: { bridge: createReaderBridge(socketPlan("pull", true), 1) },
});

/** Binds the PULL socket workers push their results to; messages pass unchanged (pylm's `WorkerPullService`). */
export const WorkerPullService = definePart({
  partType: "WorkerPullService",
  role: "inbound",
  blocking: false,
  service: true,
  scheme: "zmq",
  peers: "workers",
  summary:
    "Binds the PULL socket workers push their results to; messages pass unchanged (pylm's `WorkerPullService`).",
  machine: inboundPartMachine,
  build: () => provided,
});
