import { enqueueActions } from "xstate";
import { bridgeCommands, routerEvents } from "./events.js";
import { endStates, initialPartContext, partSetup, runningTransitions } from "./partSetup.js";

/**
 * A non-blocking outbound part (PUSH, PUB): deliveries queue while a send is pending (zeromq.js allows one
 * pending send per socket) and go out together when it completes, so a deep queue becomes one batch.
 * `sending.blocked` models the socket at its high-water mark; past `highWater` queued messages the part
 * asks the router to hold back instead of growing without limit.
 */
export const outboundPartMachine = partSetup
  .extend({
    actions: {
      enqueue: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== "part.deliver") return;
        const queuedMessages = context.queuedMessages + event.delivery.messages.length;
        // The queue is appended in place: copying it per delivery would be quadratic under load.
        context.queue.push(event.delivery);
        enqueue.assign({ queuedMessages });
        if (!context.pressured && queuedMessages > context.highWater) {
          enqueue.assign({ pressured: true });
          enqueue.sendParent(routerEvents.pressure(context.name, true));
        }
      }),
      flush: enqueueActions(({ context, enqueue }) => {
        enqueue.sendTo("bridge", bridgeCommands.send(context.queue));
        enqueue.assign({ queue: [], queuedMessages: 0 });
        if (context.pressured) {
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
                { guard: "hasQueued", target: "sending", actions: ["notifyReady", "flush"] },
                { target: "idle", actions: "notifyReady" },
              ],
            },
          },
          idle: {
            on: { "part.deliver": { target: "sending", actions: ["enqueue", "flush"] } },
          },
          sending: {
            initial: "writing",
            on: {
              "part.sent": [
                { guard: "hasQueued", target: "sending", reenter: true, actions: ["acknowledge", "flush"] },
                { target: "idle", actions: "acknowledge" },
              ],
            },
            states: {
              writing: { on: { "part.blocked": { target: "blocked" } } },
              blocked: {},
            },
          },
        },
      },
      ...endStates,
    },
  });
