import { inboundPartMachine } from "../../machines/inboundPart.js";
import { createReaderBridge } from "../../src/bridges/readerBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { definePart } from "../../src/part.js";

const provided = inboundPartMachine.provide({
  actors: { bridge: createReaderBridge(socketPlan("sub", false), 2) },
});

/**
 * Connects a SUB socket to a publisher and subscribes to the topic named by its `previous` option (or the
 * `subscribe` list; everything when neither is given); messages go to the router (pylm's `SubConnection`).
 */
export const SubConnection = definePart({
  partType: "SubConnection",
  role: "inbound",
  blocking: false,
  service: false,
  scheme: "zmq",
  summary:
    "Connects a SUB socket to a publisher, subscribed to the topic `previous` (pylm's `SubConnection`).",
  machine: inboundPartMachine,
  build: (environment) => {
    const { options } = environment;
    if (!options.subscribe && typeof options.previous === "string") options.subscribe = [options.previous];
    return provided;
  },
});
