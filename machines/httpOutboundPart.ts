import { enqueueActions, not } from "xstate";
import { routerEvents } from "./events.js";
import {
  httpBridgeCommands,
  httpPartSetup,
  initialHttpPartContext,
  type OpenDelivery,
} from "./httpPartSetup.js";
import { createPartMachine, queueDelivery } from "./partSetup.js";

/** Removes and returns the leading deliveries whose every message is answered (acknowledged in order). */
function takeAnswered(open: OpenDelivery[]): OpenDelivery[] {
  const done: OpenDelivery[] = [];
  while (open.length > 0 && open[0]!.remaining === 0) done.push(open.shift()!);
  return done;
}

/** The actions and guards of the HTTP outbound part, on top of `httpPartSetup`. */
const httpOutboundSetup = httpPartSetup.extend({
  actions: {
    enqueue: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === "part.deliver") queueDelivery(context, event.delivery, enqueue);
    }),
    /** Starts POSTs while slots are free, message by message, oldest delivery first. */
    dispatch: enqueueActions(({ context, enqueue }) => {
      const { queue, open, slots } = context;
      let { inFlight, cursor, queuedMessages } = context;
      while (inFlight < slots && queue.length > 0) {
        const head = queue[0]!;
        if (cursor === 0) {
          open.push({
            seq: head.seq,
            answers: new Array(head.messages.length),
            remaining: head.messages.length,
          });
        }
        if (cursor < head.messages.length) {
          enqueue.sendTo("bridge", httpBridgeCommands.post(head.seq, cursor, head.messages[cursor]!));
          inFlight++;
          cursor++;
          queuedMessages--;
        }
        if (cursor >= head.messages.length) {
          queue.shift();
          cursor = 0;
        }
      }
      // A delivery without messages is answered as soon as it is reached.
      for (const done of takeAnswered(open)) {
        enqueue.sendParent(routerEvents.ack(context.name, done.seq, []));
      }
      enqueue.assign({ inFlight, cursor, queuedMessages });
      if (context.pressured && queuedMessages <= context.highWater / 2) {
        enqueue.assign({ pressured: false });
        enqueue.sendParent(routerEvents.pressure(context.name, false));
      }
    }),
    /** Records one POST's answers, then acknowledges every leading delivery that is fully answered. */
    settle: enqueueActions(({ context, event, enqueue }) => {
      const { open } = context;
      let { inFlight, messagesOut } = context;
      if (event.type === "part.posted") {
        const entry = open.find((candidate) => candidate.seq === event.seq);
        if (entry && entry.answers[event.index] === undefined) {
          entry.answers[event.index] = event.answers;
          entry.remaining--;
          inFlight--;
        }
      }
      for (const done of takeAnswered(open)) {
        messagesOut += done.answers.length;
        enqueue.sendParent(routerEvents.ack(context.name, done.seq, done.answers.flat()));
      }
      enqueue.assign({ inFlight, messagesOut });
    }),
  },
  guards: {
    saturated: ({ context }) => context.inFlight >= context.slots,
    drained: ({ context }) =>
      context.inFlight === 0 && context.queue.length === 0 && context.open.length === 0,
  },
});

/**
 * A blocking outbound HTTP part (`HttpConnection`): it POSTs each message of its deliveries, at most
 * `slots` at once, and acknowledges each delivery with the answers as feedback once all its messages are
 * answered — in delivery order, since the router settles acknowledgements in order. Work beyond the slots
 * queues here (backpressure past `highWater`), so only this part waits.
 */
export const httpOutboundPartMachine = createPartMachine<typeof httpOutboundSetup>(httpOutboundSetup, {
  context: ({ input }) => initialHttpPartContext(input),
  on: { "part.deliver": { actions: "enqueue" } },
  states: {
    connecting: {
      on: {
        "part.open": { target: "posting", actions: ["openSlots", "notifyReady", "dispatch"] },
      },
    },
    idle: {
      on: { "part.deliver": { target: "posting", actions: ["enqueue", "dispatch"] } },
    },
    posting: {
      on: {
        "part.deliver": { actions: ["enqueue", "dispatch"] },
        "part.posted": { actions: ["settle", "dispatch"] },
      },
      always: { guard: "drained", target: "idle" },
      initial: "open",
      states: {
        open: { always: { guard: "saturated", target: "saturated" } },
        saturated: { always: { guard: not("saturated"), target: "open" } },
      },
    },
  },
});
