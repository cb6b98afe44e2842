import { assign, sendTo } from "xstate";
import { bridgeCommands } from "./events.js";
import { createPartMachine, initialPartContext, partSetup } from "./partSetup.js";

/**
 * A bypass part (the cache service, bypass REP, PUSH and PULL): it ignores the router and its bridge does
 * all the work; the machine only tracks readiness, counters and failure, so it is supervised like any part.
 */
export const bypassPartMachine = createPartMachine<typeof partSetup>(partSetup, {
  context: ({ input }) => initialPartContext(input),
  states: {
    connecting: { on: { "part.ready": { target: "ready", actions: "notifyReady" } } },
    ready: {
      on: {
        "part.received": {
          actions: assign({
            messagesIn: ({ context, event }) => context.messagesIn + event.messages.length,
          }),
        },
        "part.replied": { actions: assign({ messagesOut: ({ context }) => context.messagesOut + 1 }) },
        // Messages handed straight to a bypass part (PushBypassConnection) go to its socket, unrouted.
        "part.deliver": {
          actions: sendTo("bridge", ({ event }) => bridgeCommands.send([event.delivery])),
        },
      },
    },
  },
});
