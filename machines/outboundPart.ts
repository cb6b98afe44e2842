import { enqueueActions, raise, sendParent, sendTo } from "xstate";
import { bridgeCommands, type PartEvent, partEvents, routerEvents } from "./events.js";
import { createPartMachine, initialPartContext, type PartContext, partSetup } from "./partSetup.js";

type Args = { context: PartContext; event: PartEvent };

/** How many messages a `part.deliver` or `part.deliverAll` event carries (0 for any other event). */
function delivered(event: PartEvent): number {
  if (event.type === "part.deliver") return event.delivery.messages.length;
  return event.type === "part.deliverAll" ? event.count : 0;
}

/** The actions and guards of the non-blocking outbound part, on top of `partSetup`. */
const outboundSetup = partSetup.extend({
  actions: {
    enqueue: ({ context, event }: Args) => {
      if (event.type === "part.deliver") context.queue.push(event.delivery);
      else if (event.type !== "part.deliverAll") return;
      // The router's array is this part's now: an empty queue takes it as it is.
      else if (context.queue.length === 0) context.queue = event.deliveries;
      else for (const delivery of event.deliveries) context.queue.push(delivery);
      context.queuedMessages += delivered(event);
    },
    holdBack: ({ context }: Args) => {
      context.pressured = true;
    },
    askHoldBack: sendParent(({ context }: Args) => routerEvents.pressure(context.name, true)),
    send: sendTo("bridge", ({ context }: Args) => bridgeCommands.send(context.queue)),
    emptyQueue: ({ context }: Args) => {
      // A new array: the one just handed to the bridge belongs to it now.
      context.queue = [];
      context.queuedMessages = 0;
    },
    letGo: ({ context }: Args) => {
      context.pressured = false;
    },
    tellLetGo: sendParent(({ context }: Args) => routerEvents.pressure(context.name, false)),
    countSent: ({ context, event }: Args) => {
      if (event.type === "part.sent") context.messagesOut += event.count;
    },
    acknowledge: sendParent(({ context, event }: Args) =>
      event.type === "part.sent"
        ? routerEvents.ack(context.name, event.seq, event.feedback)
        : routerEvents.ack(context.name, 0),
    ),
    beat: sendTo("bridge", () => bridgeCommands.heartbeat()),
    scheduleHeartbeat: raise(() => partEvents.heartbeat(), { delay: "heartbeat", id: "heartbeat" }),
  },
  delays: {
    // Placeholder: a publisher provides its period (PubService's `heartbeatMs`).
    heartbeat: 1000,
  },
  guards: {
    /** Placeholder: only a publisher that announces itself provides `() => true`. */
    heartbeats: () => false,
    hasQueued: ({ context }: Args) => context.queue.length > 0,
    hasQueuedPressured: ({ context }: Args) => context.queue.length > 0 && context.pressured,
    /** The delivery takes the queue past `highWater` while the router is not held back yet. */
    overflows: ({ context, event }: Args) =>
      !context.pressured && context.queuedMessages + delivered(event) > context.highWater,
  },
});

/**
 * A non-blocking outbound part (PUSH, PUB): deliveries queue while a send is pending (zeromq.js allows one
 * pending send per socket) and go out together when it completes, so a deep queue becomes one batch.
 * `sending.blocked` models the socket at its high-water mark; past `highWater` queued messages the part
 * asks the router to hold back instead of growing without limit.
 *
 * Every message passes through here, so the actions are plain functions and built-in sends, chosen by
 * guards, rather than `enqueueActions` (which costs about a microsecond more per event). The queue and
 * the counters are changed in place, as the router's ledger is: copying the context for every batch would
 * cost more than the rest of the transition.
 *
 * A publisher that announces itself to palm clients (`PubService`) provides the `heartbeats` guard and the
 * `heartbeat` delay: from ready on, a delayed `part.heartbeat` on the actor clock asks the bridge to say the
 * server is alive, every period, whatever the part is doing.
 */
export const outboundPartMachine = createPartMachine<typeof outboundSetup>(outboundSetup, {
  context: ({ input }) => initialPartContext(input),
  on: {
    "part.heartbeat": { guard: "heartbeats", actions: ["beat", "scheduleHeartbeat"] },
    // A two-way part (a master's Dispatch ROUTER) passes what its peers send on to the part it names.
    "part.received": {
      actions: sendParent(({ context, event }: Args) =>
        event.type === "part.received"
          ? routerEvents.route(context.name, event.messages, undefined, event.to, event.envelope)
          : routerEvents.ack(context.name, 0),
      ),
    },
    "part.deliver": [
      { guard: "overflows", actions: ["enqueue", "holdBack", "askHoldBack"] },
      { actions: "enqueue" },
    ],
    "part.deliverAll": [
      { guard: "overflows", actions: ["enqueue", "holdBack", "askHoldBack"] },
      { actions: "enqueue" },
    ],
  },
  states: {
    connecting: {
      // The first heartbeat one period after the part is ready; the greeting says it sooner.
      exit: enqueueActions(({ check, enqueue }) => {
        if (check("heartbeats")) enqueue("scheduleHeartbeat");
      }),
      on: {
        "part.ready": [
          {
            guard: "hasQueuedPressured",
            target: "sending",
            actions: ["notifyReady", "send", "emptyQueue", "letGo", "tellLetGo"],
          },
          { guard: "hasQueued", target: "sending", actions: ["notifyReady", "send", "emptyQueue"] },
          { target: "idle", actions: "notifyReady" },
        ],
      },
    },
    idle: {
      on: {
        "part.deliver": [
          // The queue was empty: it goes out at once, so the pressure it would raise is let go at once.
          {
            guard: "overflows",
            target: "sending",
            actions: ["enqueue", "holdBack", "askHoldBack", "send", "emptyQueue", "letGo", "tellLetGo"],
          },
          { target: "sending", actions: ["enqueue", "send", "emptyQueue"] },
        ],
        // What the router held while this part was sending: it holds the feeders back for that itself.
        "part.deliverAll": { target: "sending", actions: ["enqueue", "send", "emptyQueue"] },
      },
    },
    sending: {
      initial: "writing",
      on: {
        "part.sent": [
          // The next send starts at once: back to `writing` (from `blocked` too) without leaving `sending`,
          // which costs xstate fewer steps than re-entering it.
          {
            guard: "hasQueuedPressured",
            target: ".writing",
            actions: ["countSent", "acknowledge", "send", "emptyQueue", "letGo", "tellLetGo"],
          },
          {
            guard: "hasQueued",
            target: ".writing",
            actions: ["countSent", "acknowledge", "send", "emptyQueue"],
          },
          { target: "idle", actions: ["countSent", "acknowledge"] },
        ],
      },
      states: {
        writing: { on: { "part.blocked": { target: "blocked" } } },
        blocked: {},
      },
    },
  },
});
