import { enqueueActions } from "xstate";
import { bridgeCommands, routerEvents } from "./events.js";
import { createPartMachine, initialPartContext, partSetup, queueDelivery } from "./partSetup.js";

/** The actions and guards of the blocking outbound part, on top of `partSetup`. */
const blockingOutboundSetup = partSetup.extend({
  actions: {
    enqueue: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === "part.deliver") queueDelivery(context, event.delivery, enqueue);
    }),
    sendNext: enqueueActions(({ context, enqueue }) => {
      const [next, ...rest] = context.queue;
      if (!next) return;
      const queuedMessages = context.queuedMessages - next.messages.length;
      enqueue.sendTo("bridge", bridgeCommands.send([next]));
      enqueue.assign({ queue: rest, queuedMessages });
      if (context.pressured && queuedMessages <= context.highWater / 2) {
        enqueue.assign({ pressured: false });
        enqueue.sendParent(routerEvents.pressure(context.name, false));
      }
    }),
    acknowledge: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "part.sent") return;
      enqueue.assign({ messagesOut: context.messagesOut + event.count });
      enqueue.sendParent(routerEvents.ack(context.name, event.seq, event.feedback));
    }),
  },
  guards: {
    hasQueued: ({ context }) => context.queue.length > 0,
  },
});

/**
 * A blocking outbound part (REQ, HTTP): it sends one delivery and waits in `awaitingPeer` for the answer,
 * which becomes the delivery's feedback. Work arriving meanwhile is queued here, so only this part waits;
 * every other route keeps flowing.
 */
export const blockingOutboundPartMachine = createPartMachine<typeof blockingOutboundSetup>(
  blockingOutboundSetup,
  {
    context: ({ input }) => initialPartContext(input),
    on: { "part.deliver": { actions: "enqueue" } },
    states: {
      connecting: {
        on: {
          "part.ready": [
            { guard: "hasQueued", target: "awaitingPeer", actions: ["notifyReady", "sendNext"] },
            { target: "idle", actions: "notifyReady" },
          ],
        },
      },
      idle: {
        on: { "part.deliver": { target: "awaitingPeer", actions: ["enqueue", "sendNext"] } },
      },
      awaitingPeer: {
        on: {
          "part.sent": [
            {
              guard: "hasQueued",
              target: "awaitingPeer",
              reenter: true,
              actions: ["acknowledge", "sendNext"],
            },
            { target: "idle", actions: "acknowledge" },
          ],
        },
      },
    },
  },
);
