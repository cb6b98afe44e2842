import { type AnyActorRef, createActor, SimulatedClock, setup } from "xstate";
import { deliveryMachine } from "../../machines/delivery.js";
import { DeliveryLedger } from "../../machines/deliveryLedger.js";
import type {
  DeliveryOptions,
  DispatchOrder,
  LivenessEvent,
  WorkerNews,
} from "../../machines/deliveryTypes.js";
import type { RouterEvent } from "../../machines/events.js";
import { partEvents } from "../../machines/events.js";
import { createMessage, type PalmMessage } from "../../src/message.js";

export const PARTS = {
  intake: "Pull",
  results: "Pub",
  dispatch: "Dispatch",
  push: "WorkerPush",
  workerResults: "WorkerPull",
} as const;

/** A stand-in for the router: it runs the delivery actor as its child and records what the child sends. */
function routerStandIn(ledger: DeliveryLedger, received: RouterEvent[]) {
  return setup({
    types: { events: {} as RouterEvent },
    actors: { delivery: deliveryMachine },
  }).createMachine({
    invoke: {
      id: "Delivery",
      src: "delivery",
      input: { name: "Delivery", role: "outbound", partType: "DeliveryService", keep: ledger },
    },
    on: { "*": { actions: ({ event }) => received.push(event) } },
  });
}

/**
 * The delivery actor on a simulated clock, fed with events only (as the router feeds it), recording what
 * it routes: work per worker, results, notices and holds.
 */
export function deliveryOnSimulatedTime(options: Partial<DeliveryOptions> = {}) {
  const clock = new SimulatedClock();
  clock.set(1_000);
  const ledger = new DeliveryLedger(PARTS, options, () => clock.now());
  const received: RouterEvent[] = [];
  let actor = createActor(routerStandIn(ledger, received), { clock });
  actor.start();
  let seq = 0;
  const child = () => (actor.getSnapshot().children as Record<string, AnyActorRef>).Delivery!;
  const deliver = (messages: PalmMessage[], source: string, envelope?: WorkerNews) =>
    child().send(
      partEvents.deliver({ seq: ++seq, messages, origin: undefined, ticket: 0, source, envelope }),
    );
  const takeFrom = (client: string, ...ids: string[]) =>
    deliver(
      ids.map((id) => createMessage({ id, client, function: "server.f", payload: Buffer.from(id) })),
      PARTS.intake,
    );
  const routes = () =>
    received.filter((e): e is Extract<RouterEvent, { type: "router.route" }> => e.type === "router.route");
  const h = {
    clock,
    ledger,
    received,
    child,
    /** Clients' messages, by id. */
    take: (...ids: string[]) => takeFrom("", ...ids),
    /** One client's messages, by id. */
    takeFrom,
    hello: (id: string, prefetch: number, extra: Record<string, unknown> = {}) =>
      deliver([], PARTS.dispatch, {
        type: "hello",
        hello: { id, name: id, pid: 1, host: "h", prefetch, heartbeatMs: 250, ...extra },
      }),
    beat: (id: string, busy?: { seq: number; ms: number }) =>
      deliver([], PARTS.dispatch, { type: "beat", worker: id, busy }),
    bye: (id: string) => deliver([], PARTS.dispatch, { type: "bye", worker: id }),
    /** A send to the worker was refused: it crashed. */
    gone: (id: string) => deliver([], PARTS.dispatch, { type: "gone", worker: id }),
    credit: (id: string, prefetch: number) =>
      deliver([], PARTS.dispatch, { type: "credit", worker: id, prefetch }),
    /** Results from a palm worker (`worker`) or, without one, from the worker PULL (pylm workers). */
    results: (worker: string | undefined, ...ids: string[]) => {
      const messages = ids.map((id) => createMessage({ id, function: "server.f", payload: Buffer.from(id) }));
      if (worker === undefined) deliver(messages, PARTS.workerResults);
      else deliver(messages, PARTS.dispatch, { type: "results", worker });
    },
    peers: (connected: number, left = false) => deliver([], PARTS.push, { type: "peers", connected, left }),
    /** Ids handed to each worker so far (in order), from the work orders routed to Dispatch. */
    work: () => {
      const out: Record<string, string[]> = {};
      for (const e of routes()) {
        if (e.to !== PARTS.dispatch || (e.envelope as DispatchOrder).type !== "work") continue;
        const worker = (e.envelope as DispatchOrder).worker;
        out[worker] = [...(out[worker] ?? []), ...e.messages.map((m) => m.id!)];
      }
      return out;
    },
    /** Orders routed to Dispatch, of one type or (none given) all, in order. */
    orders: (type?: DispatchOrder["type"]) =>
      routes()
        .filter(
          (e) =>
            e.to === PARTS.dispatch && (type === undefined || (e.envelope as DispatchOrder).type === type),
        )
        .map((e) => e.envelope as DispatchOrder),
    /** What went to the publisher. */
    published: () =>
      routes()
        .filter((e) => e.to === PARTS.results)
        .flatMap((e) => e.messages),
    pushed: () =>
      routes()
        .filter((e) => e.to === PARTS.push)
        .flatMap((e) => e.messages.map((m) => m.id!)),
    notices: () =>
      received
        .filter((e): e is Extract<RouterEvent, { type: "router.notice" }> => e.type === "router.notice")
        .map((e) => e.event as LivenessEvent),
    holds: () =>
      received
        .filter((e): e is Extract<RouterEvent, { type: "router.pressure" }> => e.type === "router.pressure")
        .map((e) => e.high),
    /** Advances the clock in steps shorter than a sweep, as time passes for a process that is not busy. */
    advance: (ms: number) => {
      for (let t = 0; t < ms; t += 50) clock.increment(Math.min(50, ms - t));
    },
    /** Stops the actor and starts a new one with the same ledger (a restart by the supervisor). */
    restart: () => {
      actor.stop();
      actor = createActor(routerStandIn(ledger, received), { clock });
      actor.start();
    },
    stop: () => actor.stop(),
  };
  return h;
}
