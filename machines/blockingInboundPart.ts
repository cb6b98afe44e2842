import { assign, sendParent, sendTo } from "xstate";
import { bridgeCommands, routerEvents } from "./events.js";
import { createPartMachine, initialPartContext, partSetup } from "./partSetup.js";

/**
 * A blocking inbound part (REP, ROUTER with reply): it must answer a request before it receives the next,
 * so it waits in `awaitingFeedback` for the router to hand back the feedback of the route it fed.
 */
export const blockingInboundPartMachine = createPartMachine<typeof partSetup>(partSetup, {
  context: ({ input }) => initialPartContext(input),
  states: {
    connecting: { on: { "part.ready": { target: "listening", actions: "notifyReady" } } },
    listening: {
      on: {
        "part.received": {
          target: "awaitingFeedback",
          actions: [
            assign({
              ticket: ({ context }) => context.ticket + 1,
              messagesIn: ({ context, event }) => context.messagesIn + event.messages.length,
            }),
            sendParent(({ context, event }) =>
              routerEvents.route(context.name, event.messages, context.ticket),
            ),
          ],
        },
      },
    },
    awaitingFeedback: {
      on: {
        "part.feedback": {
          guard: ({ context, event }) => event.ticket === context.ticket,
          target: "replying",
          actions: sendTo("bridge", ({ event }) => bridgeCommands.reply(event.messages)),
        },
      },
    },
    replying: {
      on: {
        "part.replied": {
          target: "listening",
          actions: assign({ messagesOut: ({ context }) => context.messagesOut + 1 }),
        },
      },
    },
  },
});
