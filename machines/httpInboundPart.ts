import { assign, enqueueActions, not, sendTo } from "xstate";
import { bridgeCommands, routerEvents } from "./events.js";
import { httpBridgeCommands, httpPartSetup, initialHttpPartContext } from "./httpPartSetup.js";
import { createPartMachine } from "./partSetup.js";

/** The actions and guards of the HTTP inbound part, on top of `httpPartSetup`. */
const httpInboundSetup = httpPartSetup.extend({
  actions: {
    routeRequest: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "part.request") return;
      enqueue.assign({
        inFlight: context.inFlight + 1,
        messagesIn: context.messagesIn + event.messages.length,
      });
      enqueue.sendParent(routerEvents.route(context.name, event.messages, event.ticket));
    }),
    answer: enqueueActions(({ event, enqueue }) => {
      if (event.type !== "part.feedback") return;
      enqueue.sendTo("bridge", httpBridgeCommands.answer(event.ticket, event.messages));
    }),
    release: assign({
      inFlight: ({ context }) => Math.max(0, context.inFlight - 1),
      messagesOut: ({ context }) => context.messagesOut + 1,
    }),
    hold: assign({ held: true }),
    unhold: assign({ held: false }),
    pauseBridge: sendTo("bridge", bridgeCommands.pause()),
    resumeBridge: sendTo("bridge", bridgeCommands.resume()),
  },
  guards: {
    mustWait: ({ context }) => context.held || context.inFlight >= context.slots,
  },
});

/**
 * An inbound HTTP part (`HttpService`): unlike REP it holds many requests at once. Each request is routed
 * with its own ticket and answered when the router hands that ticket's feedback back, in any order. At
 * `slots` requests in flight, or while the router holds it back, it waits: its bridge holds new requests.
 */
export const httpInboundPartMachine = createPartMachine<typeof httpInboundSetup>(httpInboundSetup, {
  context: ({ input }) => initialHttpPartContext(input),
  states: {
    connecting: {
      on: { "part.open": { target: "listening", actions: ["openSlots", "notifyReady"] } },
    },
    listening: {
      initial: "accepting",
      on: {
        "part.request": { actions: "routeRequest" },
        "part.feedback": { actions: "answer" },
        "part.answered": { actions: "release" },
        "part.pause": { actions: "hold" },
        "part.resume": { actions: "unhold" },
      },
      states: {
        accepting: { always: { guard: "mustWait", target: "waiting" } },
        waiting: {
          entry: "pauseBridge",
          exit: "resumeBridge",
          always: { guard: not("mustWait"), target: "accepting" },
        },
      },
    },
  },
});
