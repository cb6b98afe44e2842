import { enqueueActions } from "xstate";
import { bridgeCommands, routerEvents } from "./events.js";
import { endStates, initialPartContext, partSetup, queueDelivery, runningTransitions } from "./partSetup.js";

/**
 * A blocking outbound part (REQ, HTTP): it sends one delivery and waits in `awaitingPeer` for the answer,
 * which becomes the delivery's feedback. Work arriving meanwhile is queued here, so only this part waits;
 * every other route keeps flowing.
 */
export const blockingOutboundPartMachine = partSetup
  .extend({
    actions: {
      enqueue: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== "part.deliver") return;
        const { queuedMessages, pressure } = queueDelivery(context, event.delivery);
        enqueue.assign({ queuedMessages });
        if (pressure) {
          enqueue.assign({ pressured: true });
          enqueue.sendParent(routerEvents.pressure(context.name, true));
        }
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
  })
  .createMachine({
    id: "part",
    context: ({ input }) => initialPartContext(input),
    initial: "running",
    states: {
      running: {
        invoke: { id: "bridge", src: "bridge", input: ({ context }) => context },
        on: { ...runningTransitions, "part.deliver": { actions: "enqueue" } },
        initial: "connecting",
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
      ...endStates,
    },
  });
