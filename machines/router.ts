import { type AnyActorLogic, enqueueActions, sendTo, setup } from "xstate";
import { type RouterEvent, routerEvents } from "./events.js";
import { deliverDirect, directRoute, settlesQuietly } from "./routerDirect.js";
import {
  applyPressure,
  type EscalationReason,
  newRecord,
  type Outbox,
  type PartRecord,
  partBecameReady,
  type RouterContext,
  type RouterPartSpec,
  routeBatch,
  settleAck,
} from "./routerLedger.js";
import {
  affectedChildren,
  backoffDelay,
  type SupervisionPolicy,
  shouldRestart,
  withinIntensity,
} from "./supervision.js";

export type {
  EscalationReason,
  PartRecord,
  PartStatus,
  RouterContext,
  RouterPartSpec,
} from "./routerLedger.js";

/** What the router is started with. `now` and `random` are injected so supervision is testable. */
export interface RouterInput {
  readonly server: string;
  readonly parts: readonly RouterPartSpec[];
  readonly policy: SupervisionPolicy;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Events the router emits for observers (`actor.on(type, …)`). */
export type RouterEmitted =
  | { type: "part.started"; part: string }
  | { type: "part.failed"; part: string; error: unknown; restartInMs: number | undefined }
  | { type: "part.restarted"; part: string; restarts: number }
  | { type: "part.exited"; part: string; restartInMs: number | undefined }
  | { type: "server.ready" }
  | { type: "server.escalated"; part: string; error: unknown; reason: EscalationReason }
  /** A part's notice for the server's observers (a master's `worker.lost`), passed on as it came. */
  | { type: "server.notice"; event: { type: string } };

const ERROR_PREFIX = "xstate.error.actor.";
const DONE_PREFIX = "xstate.done.actor.";
/** How many respawn times a part's record keeps (for observers; intensity uses `restartHistory`). */
const RESTART_TIMES_KEPT = 64;

// xstate types `spawnChild` ids only for logic named in `setup({ actors })`; parts' logic arrives as input.
type SpawnChild = (logic: AnyActorLogic, options: { id: string; systemId: string; input: unknown }) => void;

/** Spawns a part as a child whose id and system id are its name. */
function spawnPart(spawnChild: unknown, spec: RouterPartSpec): void {
  (spawnChild as SpawnChild)(spec.logic, { id: spec.name, systemId: spec.name, input: spec.input });
}

/**
 * The router: a supervisor actor that spawns every part as a child, holds the routing table and a ledger
 * of what each part was handed, and restarts failed parts by its policy (or escalates). Pure: the parts'
 * logic, the clock and the randomness come in through its input.
 */
export const routerMachine = setup({
  types: {
    context: {} as RouterContext,
    events: {} as
      | RouterEvent
      | { type: `xstate.error.actor.${string}`; error: unknown }
      | { type: `xstate.done.actor.${string}` },
    input: {} as RouterInput,
    emitted: {} as RouterEmitted,
  },
  actions: {
    spawnParts: enqueueActions(({ context, enqueue }) => {
      for (const name of context.order) {
        const spec = context.records[name]!.spec;
        spawnPart(enqueue.spawnChild, spec);
      }
    }),
    // The common case as one plain action and one built-in send (no `enqueueActions`, which builds its
    // `enqueue` helpers for every event): the batch goes straight to a ready part that is not sending.
    routeDirectly: ({ context, event }) => {
      if (event.type !== "router.route") return;
      // What the part acknowledged with it settles quietly (the guard checked): nothing to send for it.
      if (event.acked !== undefined) settleAck(context, event.part, event.acked, undefined);
      const target = directRoute(context, event.part, event.messages, event.to, event.envelope);
      if (target !== undefined)
        deliverDirect(context, target, event.part, event.messages, event.ticket, event.envelope);
    },
    sendDirect: sendTo(
      ({ context }) => context.direct.to,
      ({ context }) => {
        // Taken out of the slot as it is sent: the context keeps no batch after its transition.
        const out = context.direct.event!;
        context.direct.event = undefined;
        return out;
      },
    ),
    route: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "router.route") return;
      if (event.acked !== undefined)
        for (const [to, out] of settleAck(context, event.part, event.acked, undefined))
          enqueue.sendTo(to, out);
      const outbox = routeBatch(context, event.part, event.messages, event.ticket, event.to, event.envelope);
      for (const [to, out] of outbox) enqueue.sendTo(to, out);
    }),
    settleQuietly: ({ context, event }) => {
      if (event.type === "router.ack") settleAck(context, event.part, event.seq, event.feedback);
    },
    settle: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "router.ack") return;
      for (const [to, out] of settleAck(context, event.part, event.seq, event.feedback))
        enqueue.sendTo(to, out);
    }),
    pressure: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "router.pressure") return;
      const outbox: Outbox = [];
      applyPressure(context, outbox, event.part, event.high, event.reason, event.only);
      for (const [to, out] of outbox) enqueue.sendTo(to, out);
    }),
    notice: enqueueActions(({ event, enqueue }) => {
      if (event.type === "router.notice") enqueue.emit({ type: "server.notice", event: event.event });
    }),
    countBadFrames: ({ context, event }) => {
      if (event.type !== "router.badFrame") return;
      const record = context.records[event.part];
      if (record) record.badFrames += event.count;
    },
    partReady: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "router.ready") return;
      const record = context.records[event.part];
      if (!record) return;
      if (record.everReady)
        enqueue.emit({ type: "part.restarted", part: event.part, restarts: record.restarts });
      else enqueue.emit({ type: "part.started", part: event.part });
      for (const [to, out] of partBecameReady(context, record)) enqueue.sendTo(to, out);
    }),
    supervise: enqueueActions(({ context, event, enqueue }) => {
      const abnormal = event.type.startsWith(ERROR_PREFIX);
      const part = event.type.slice(abnormal ? ERROR_PREFIX.length : DONE_PREFIX.length);
      const record = context.records[part];
      // A part already taken down with a failed sibling (or stopped for good) has nothing left to decide.
      if (!record || record.status === "stopped" || record.status === "restarting") return;
      const error = abnormal ? (event as { error: unknown }).error : undefined;
      if (abnormal) record.lastError = error;
      const now = context.now();
      if (!record.everReady && abnormal) {
        // A part that never became ready (cannot bind, bad address) fails the server's start.
        context.escalation = { part, error, reason: "start" };
        enqueue.raise({ type: "router.escalate" });
        return;
      }
      if (!shouldRestart(record.spec.restart, abnormal)) {
        record.status = "stopped";
        enqueue.emit(
          abnormal
            ? { type: "part.failed", part, error, restartInMs: undefined }
            : { type: "part.exited", part, restartInMs: undefined },
        );
        return;
      }
      const { policy } = context;
      if (!withinIntensity(policy, context.restartHistory, now)) {
        context.escalation = {
          part,
          reason: "intensity",
          error: new Error(
            `restart intensity exceeded: more than ${policy.maxRestarts} restarts within ${policy.withinMs} ms`,
            { cause: error ?? new Error(`part "${part}" exited`) },
          ),
        };
        enqueue.raise({ type: "router.escalate" });
        return;
      }
      // Changed in place, like the ledgers: only restarts inside the window matter, and times only grow.
      const history = context.restartHistory;
      while (history.length > 0 && now - history[0]! >= policy.withinMs) history.shift();
      history.push(now);
      const stable = record.status === "ready" && now - record.readySince >= policy.backoff.resetAfterMs;
      record.consecutiveFailures = stable ? 1 : record.consecutiveFailures + 1;
      const delay = backoffDelay(policy.backoff, record.consecutiveFailures, context.random());
      const victims: string[] = [];
      // Siblings go down in reverse registration order (their children first, as OTP stops them).
      for (const name of affectedChildren(policy.strategy, context.order, part).reverse()) {
        const victim = context.records[name]!;
        if (victim.status === "stopped") continue;
        if (name !== part) enqueue.stopChild(name);
        if (name !== part && victim.spec.restart === "temporary") {
          // OTP: a temporary child is never restarted, not even when a sibling's failure took it down.
          victim.status = "stopped";
          enqueue.emit({ type: "part.exited", part: name, restartInMs: undefined });
          continue;
        }
        victim.status = "restarting";
        victims.unshift(name);
      }
      enqueue.emit(
        abnormal
          ? { type: "part.failed", part, error, restartInMs: delay }
          : { type: "part.exited", part, restartInMs: delay },
      );
      enqueue.raise(routerEvents.restart(victims), { delay });
    }),
    restart: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "router.restart") return;
      const now = context.now();
      for (const name of event.parts) {
        const record = context.records[name]!;
        if (record.status !== "restarting") continue;
        enqueue.stopChild(name);
        record.status = "starting";
        record.restarts++;
        record.restartTimes.push(now);
        if (record.restartTimes.length > RESTART_TIMES_KEPT) record.restartTimes.shift();
        spawnPart(enqueue.spawnChild, record.spec);
      }
    }),
    stopParts: enqueueActions(({ context, enqueue }) => {
      for (const name of [...context.order].reverse()) {
        context.records[name]!.status = "stopped";
        enqueue.stopChild(name);
      }
    }),
    emitReady: enqueueActions(({ enqueue }) => enqueue.emit({ type: "server.ready" })),
    emitEscalated: enqueueActions(({ context, enqueue }) => {
      const cause = context.escalation!;
      enqueue.emit({ type: "server.escalated", part: cause.part, error: cause.error, reason: cause.reason });
    }),
  },
  guards: {
    allReady: ({ context, event }) =>
      event.type === "router.ready" &&
      context.order.every((name) => context.records[name]!.status === "ready" || name === event.part),
    escalating: ({ context }) => context.escalation !== undefined,
    settlesQuietly: ({ context, event }) =>
      event.type === "router.ack" && settlesQuietly(context, event.part, event.seq, event.feedback),
    routesDirectly: ({ context, event }) =>
      event.type === "router.route" &&
      (event.acked === undefined || settlesQuietly(context, event.part, event.acked, undefined)) &&
      directRoute(context, event.part, event.messages, event.to, event.envelope) !== undefined,
  },
}).createMachine({
  id: "router",
  context: ({ input }) => {
    const records: Record<string, PartRecord> = {};
    for (const spec of input.parts) records[spec.name] = newRecord(spec);
    return {
      server: input.server,
      policy: input.policy,
      order: input.parts.map((spec) => spec.name),
      records,
      now: input.now ?? Date.now,
      random: input.random ?? Math.random,
      restartHistory: [],
      escalation: undefined,
      direct: { to: "", event: undefined },
    };
  },
  initial: "starting",
  entry: "spawnParts",
  on: {
    "router.route": [
      { guard: "routesDirectly", actions: ["routeDirectly", "sendDirect"] },
      { actions: "route" },
    ],
    "router.ack": [{ guard: "settlesQuietly", actions: "settleQuietly" }, { actions: "settle" }],
    "router.pressure": { actions: "pressure" },
    "router.badFrame": { actions: "countBadFrames" },
    "router.notice": { actions: "notice" },
    "router.restart": { actions: "restart" },
    "xstate.error.actor.*": [{ actions: "supervise" }],
    "xstate.done.actor.*": [{ actions: "supervise" }],
    "router.stop": { target: ".stopped" },
    // Raised by `supervise` when it decides to escalate (an event rather than an eventless transition,
    // which xstate would evaluate after every event on the hot path).
    "router.escalate": { guard: "escalating", target: ".escalated" },
  },
  states: {
    starting: {
      on: {
        "router.ready": [
          { guard: "allReady", target: "running", actions: ["partReady", "emitReady"] },
          { actions: "partReady" },
        ],
      },
    },
    running: { on: { "router.ready": { actions: "partReady" } } },
    escalated: { type: "final", entry: ["stopParts", "emitEscalated"] },
    stopped: { type: "final", entry: "stopParts" },
  },
});
