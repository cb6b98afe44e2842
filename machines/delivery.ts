import { assign, enqueueActions, setup } from "xstate";
import type { DeliveryLedger } from "./deliveryLedger.js";
import type { DeliveryCommand, WorkerNews } from "./deliveryTypes.js";
import { type PartEvent, type RouterEvent, routerEvents } from "./events.js";
import type { PartInput } from "./partSetup.js";
import type { PartRole } from "./types.js";

/** What the delivery actor is started with: a part's input whose `keep` is the server's `DeliveryLedger`. */
export interface DeliveryInput extends PartInput {
  readonly keep: DeliveryLedger;
}

/**
 * The delivery actor's context: the ledger (kept across restarts; the inspector, serialising the context,
 * sees its counters through `DeliveryLedger.toJSON`) and the counters of what passed.
 */
export interface DeliveryContext {
  readonly name: string;
  readonly role: PartRole;
  readonly partType: string;
  readonly ledger: DeliveryLedger;
  messagesIn: number;
  messagesOut: number;
  lastError: unknown;
}

/** Events the delivery actor takes besides a part's: the server stops and drains what workers hold. */
export type DeliveryEvent = PartEvent | { type: "delivery.drain" };

/** Builds the events the delivery actor takes besides a part's. */
export const deliveryEvents = {
  drain: (): DeliveryEvent => ({ type: "delivery.drain" }),
};

function isNews(envelope: unknown): envelope is WorkerNews {
  return (
    typeof envelope === "object" &&
    envelope !== null &&
    typeof (envelope as { type?: unknown }).type === "string"
  );
}

/**
 * What the ledger decided, as events for the router: routes, the intake's hold, notices for observers.
 * With `acked`, the router is first told that the delivery of that seq was taken: on the first command
 * when it is a route (one event where it would take two), else as a `router.ack` of its own.
 */
function toRouter(context: DeliveryContext, commands: DeliveryCommand[], acked?: number): RouterEvent[] {
  const { name, ledger } = context;
  const first = commands[0];
  const out: RouterEvent[] = [];
  if (acked !== undefined && first?.type !== "route") out.push(routerEvents.ack(name, acked));
  for (const command of commands) {
    if (command.type === "route") {
      context.messagesOut += command.messages.length;
      out.push(
        command === first && acked !== undefined
          ? routerEvents.ackAndRoute(name, acked, command.messages, command.to, command.envelope)
          : routerEvents.route(name, command.messages, undefined, command.to, command.envelope),
      );
    } else if (command.type === "hold")
      out.push(routerEvents.pressure(name, command.high, "maxInFlight", ledger.parts.intake));
    else out.push(routerEvents.notice(command.event));
  }
  return out;
}

/**
 * The Master's delivery guarantees as one actor, a child of the router supervised like a part: it takes
 * clients' messages and workers' results and news as deliveries from the router, and answers with routes
 * (work to the `Dispatch` part for palm workers or to the worker PUSH for pylm workers, results to the
 * publisher). Its ledger (ownership, credits, liveness, deadlines, duplicates) lives outside the actor so a
 * restart loses nothing; its sweep is a delayed event, so a simulated clock drives it.
 */
export const deliveryMachine = setup({
  types: {
    context: {} as DeliveryContext,
    events: {} as DeliveryEvent,
    input: {} as DeliveryInput,
  },
  delays: {
    sweep: ({ context }) => context.ledger.sweepMs,
  },
  actions: {
    notifyReady: enqueueActions(({ context, enqueue }) =>
      enqueue.sendParent(routerEvents.ready(context.name)),
    ),
    take: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "part.deliver") return;
      const { delivery } = event;
      const { ledger } = context;
      context.messagesIn += delivery.messages.length;
      const envelope = delivery.envelope;
      let commands: DeliveryCommand[];
      // A worker's results are news of it too, which `results` takes in (its credit, its last sign of life).
      if (isNews(envelope))
        commands =
          envelope.type === "results"
            ? ledger.results(envelope.worker, delivery.messages)
            : ledger.news(envelope);
      else if (delivery.source !== undefined && delivery.source === ledger.parts.workerResults)
        commands = ledger.results(undefined, delivery.messages);
      else commands = ledger.take(delivery.messages);
      // Taken into the ledger, which outlives this actor: the router need not hold the delivery any longer.
      for (const out of toRouter(context, commands, delivery.seq)) enqueue.sendParent(out);
    }),
    sweep: enqueueActions(({ context, enqueue }) => {
      for (const out of toRouter(context, context.ledger.sweep())) enqueue.sendParent(out);
    }),
    drain: enqueueActions(({ context, enqueue }) => {
      for (const out of toRouter(context, context.ledger.drain())) enqueue.sendParent(out);
    }),
    recordError: assign({
      lastError: ({ event }) => ("error" in event ? event.error : new Error(event.type)),
    }),
    escalate: ({ context }) => {
      const error = context.lastError;
      throw error instanceof Error ? error : new Error(String(error));
    },
  },
  guards: {
    idle: ({ context }) => context.ledger.size === 0,
  },
}).createMachine({
  id: "delivery",
  context: ({ input }) => ({
    name: input.name,
    role: input.role,
    partType: input.partType,
    ledger: input.keep,
    messagesIn: 0,
    messagesOut: 0,
    lastError: undefined,
  }),
  initial: "running",
  states: {
    running: {
      entry: "notifyReady",
      type: "parallel",
      on: {
        "part.deliver": { actions: "take" },
        "part.crash": { target: "failed", actions: "recordError" },
        "part.fault": { target: "failed", actions: "recordError" },
        "part.exit": { target: "exited" },
      },
      states: {
        clock: {
          initial: "waiting",
          states: {
            // Re-entered after every sweep, which re-arms the delayed event (and a restart arms it anew).
            waiting: { after: { sweep: { target: "waiting", reenter: true, actions: "sweep" } } },
          },
        },
        intake: {
          initial: "open",
          states: {
            open: { on: { "delivery.drain": { target: "draining", actions: "drain" } } },
            draining: {
              initial: "holding",
              states: {
                // Checked after every event: the last result (or deadline) empties it.
                holding: { always: { guard: "idle", target: "empty" } },
                empty: { type: "final" },
              },
            },
          },
        },
      },
    },
    failed: { after: { 0: { actions: "escalate" } } },
    exited: { type: "final" },
  },
});
