import { sendParent, sendTo } from "xstate";
import { bridgeCommands, routerEvents } from "./events.js";
import { createPartMachine, initialPartContext, partSetup } from "./partSetup.js";

/**
 * A non-blocking inbound part (PULL, SUB): every batch its socket receives goes to the router at once.
 * The router may pause it (backpressure); while paused its bridge stops reading, so the socket's queue
 * and then the peer's high-water mark hold the rest.
 */
export const inboundPartMachine = createPartMachine<typeof partSetup>(partSetup, {
  context: ({ input }) => initialPartContext(input),
  states: {
    connecting: { on: { "part.ready": { target: "ready", actions: "notifyReady" } } },
    ready: {
      initial: "flowing",
      on: {
        "part.received": {
          actions: [
            // Counted in place: copying the context for every batch would cost more than the transition.
            ({ context, event }) => {
              context.messagesIn += event.messages.length;
            },
            sendParent(({ context, event }) =>
              routerEvents.route(context.name, event.messages, undefined, event.to),
            ),
          ],
        },
      },
      states: {
        flowing: {
          on: { "part.pause": { target: "paused", actions: sendTo("bridge", bridgeCommands.pause()) } },
        },
        paused: {
          on: {
            "part.resume": { target: "flowing", actions: sendTo("bridge", bridgeCommands.resume()) },
          },
        },
      },
    },
  },
});
