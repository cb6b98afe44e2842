import { type AnyActorLogic, enqueueActions, setup } from "xstate";
import { type ControlEvent, partEvents, type RouterEvent, routerEvents } from "./events.js";
import { DEFAULT_HIGH_WATER, type PartInput } from "./partSetup.js";
import {
  affectedChildren,
  backoffDelay,
  type SupervisionPolicy,
  shouldRestart,
  withinIntensity,
} from "./supervision.js";
import type { Delivery, PalmMessage, PartRole, RestartType } from "./types.js";

/** One part as the router sees it: how to start it and where its messages go. */
export interface RouterPartSpec {
  readonly name: string;
  readonly role: PartRole;
  /** The outbound part this part's messages (inbound) or feedback (outbound: the reroute) go to. */
  readonly route: string | undefined;
  /** A blocking inbound waits for the feedback of what it routed. */
  readonly block: boolean;
  readonly restart: RestartType;
  /**
   * Outbound parts this part routes to by its own decision (a master's delivery part feeds its publisher):
   * when one of them asks to hold back, the inbound parts routing to this one are held back too.
   */
  readonly feeds?: readonly string[];
  readonly logic: AnyActorLogic;
  readonly input: PartInput;
}

/** What the router is started with. `now` and `random` are injected so supervision is testable. */
export interface RouterInput {
  readonly server: string;
  readonly parts: readonly RouterPartSpec[];
  readonly policy: SupervisionPolicy;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** The status of one part in the router's eyes. */
export type PartStatus = "starting" | "ready" | "restarting" | "stopped";

/**
 * The router's ledger for one part. Mutable on purpose: it is updated once per batch on the hot path, so
 * the router changes it in place instead of copying its context for every message.
 */
export interface PartRecord {
  readonly spec: RouterPartSpec;
  status: PartStatus;
  everReady: boolean;
  /** Deliveries handed to this part (or held for it) that it has not acknowledged, in order. */
  pending: Delivery[];
  pendingMessages: number;
  nextSeq: number;
  restarts: number;
  /** When the part was last respawned (the router's clock), newest last; at most `RESTART_TIMES_KEPT`. */
  restartTimes: number[];
  consecutiveFailures: number;
  readySince: number;
  lastError: unknown;
  badFrames: number;
  /** Messages held for this part while it is down before its feeders are held back (`DEFAULT_HIGH_WATER` unless set). */
  readonly highWater: number;
  /** Outbound parts that asked to hold back, for an inbound part; paused while any does. */
  pressure: Set<string>;
}

/** Why the router gave up: a part could not start, or restarts exceeded the intensity. */
export type EscalationReason = "start" | "intensity";

/** The router's state: the routing table, each part's ledger and restart history. */
export interface RouterContext {
  readonly server: string;
  readonly policy: SupervisionPolicy;
  readonly order: readonly string[];
  readonly records: Readonly<Record<string, PartRecord>>;
  readonly now: () => number;
  readonly random: () => number;
  /** When the router decided its recent restarts, server-wide (OTP's intensity counts the supervisor's). */
  readonly restartHistory: number[];
  escalation: { part: string; error: unknown; reason: EscalationReason } | undefined;
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

function newRecord(spec: RouterPartSpec): PartRecord {
  return {
    spec,
    status: "starting",
    everReady: false,
    pending: [],
    pendingMessages: 0,
    nextSeq: 1,
    restarts: 0,
    restartTimes: [],
    consecutiveFailures: 0,
    readySince: 0,
    lastError: undefined,
    badFrames: 0,
    // Filled in here, so a part registered without `highWater` still holds its feeders back while it restarts.
    highWater: spec.input.highWater ?? DEFAULT_HIGH_WATER,
    pressure: new Set(),
  };
}

/** Events the router's helpers decide to send, as (part, event) pairs; the calling action sends them. */
type Outbox = Array<[string, ControlEvent]>;

function send(outbox: Outbox, part: string, event: ControlEvent): void {
  outbox.push([part, event]);
}

/** Hands `messages` to `target` (or holds them until it is ready), recording them in its ledger. */
function deliver(
  context: RouterContext,
  outbox: Outbox,
  target: string,
  messages: PalmMessage[],
  origin: string | undefined,
  ticket: number,
  source?: string,
  envelope?: unknown,
): void {
  const record = context.records[target];
  if (!record || (messages.length === 0 && envelope === undefined)) return;
  const originRestarts = origin === undefined ? undefined : context.records[origin]?.restarts;
  const delivery: Delivery =
    envelope === undefined
      ? { seq: record.nextSeq++, messages, origin, ticket, originRestarts, source }
      : { seq: record.nextSeq++, messages, origin, ticket, originRestarts, source, envelope };
  record.pending.push(delivery);
  record.pendingMessages += messages.length;
  if (record.status === "ready") send(outbox, target, partEvents.deliver(delivery));
  else if (record.pendingMessages > record.highWater && !record.pressure.has(target)) {
    // The target is down and its backlog is deep: hold the inbound parts feeding it back.
    applyPressure(context, outbox, target, true);
  }
}

/** Pauses (or resumes) the inbound parts that route to `outbound`, for `reason` (by default its own queue). */
function applyPressure(
  context: RouterContext,
  outbox: Outbox,
  outbound: string,
  high: boolean,
  reason: string = outbound,
  only?: string,
): void {
  for (const name of context.order) {
    const record = context.records[name]!;
    const route = record.spec.route;
    if (record.spec.role !== "inbound" || route === undefined) continue;
    if (route !== outbound && !context.records[route]?.spec.feeds?.includes(outbound)) continue;
    if (only !== undefined && name !== only) continue;
    const before = record.pressure.size;
    if (high) record.pressure.add(reason);
    else record.pressure.delete(reason);
    if (record.status !== "ready") continue;
    if (before === 0 && record.pressure.size > 0) send(outbox, name, partEvents.pause());
    if (before > 0 && record.pressure.size === 0) send(outbox, name, partEvents.resume());
  }
}

// xstate types `spawnChild` ids only for logic named in `setup({ actors })`; parts' logic arrives as input.
type SpawnChild = (logic: AnyActorLogic, options: { id: string; systemId: string; input: unknown }) => void;

/** Spawns a part as a child whose id and system id are its name. */
function spawnPart(spawnChild: unknown, spec: RouterPartSpec): void {
  (spawnChild as SpawnChild)(spec.logic, { id: spec.name, systemId: spec.name, input: spec.input });
}

/** Sends a batch an inbound part received on to its route (or straight back, if it has none and waits). */
function routeBatch(
  context: RouterContext,
  part: string,
  messages: PalmMessage[],
  ticket: number | undefined,
  to: string | undefined,
  envelope?: unknown,
): Outbox {
  const outbox: Outbox = [];
  const spec = context.records[part]?.spec;
  if (!spec) return outbox;
  const origin = ticket === undefined ? undefined : part;
  // `to` diverts a batch from the part's route (its hook decided, e.g. an error answered at once).
  const route = to !== undefined && context.records[to]?.spec.role === "outbound" ? to : spec.route;
  if (route && (messages.length > 0 || envelope !== undefined))
    deliver(context, outbox, route, messages, origin, ticket ?? 0, part, envelope);
  // The origin may have been stopped (with a failed sibling) since it sent this: it has no one to answer.
  else if (origin && context.records[origin]?.status === "ready")
    send(outbox, origin, partEvents.feedback(ticket!, messages));
  return outbox;
}

/** Whether `part` is ready and still the instance that had been restarted `restarts` times. */
function isSameInstance(context: RouterContext, part: string, restarts: number | undefined): boolean {
  const record = context.records[part];
  return record?.status === "ready" && record.restarts === restarts;
}

/**
 * Settles what an outbound part acknowledged: its feedback is rerouted once (if the part has a route) and
 * handed back to the blocking inbound part waiting for it. A non-blocking part's feedback is what it sent.
 */
function settleAck(
  context: RouterContext,
  part: string,
  seq: number,
  feedback: PalmMessage[] | undefined,
): Outbox {
  const outbox: Outbox = [];
  const record = context.records[part];
  if (!record) return outbox;
  const reroute = record.spec.route;
  while (record.pending.length > 0 && record.pending[0]!.seq <= seq) {
    const done = record.pending.shift()!;
    record.pendingMessages -= done.messages.length;
    const result = done.seq === seq && feedback ? feedback : done.messages;
    if (reroute) deliver(context, outbox, reroute, result, undefined, 0);
    if (done.origin && isSameInstance(context, done.origin, done.originRestarts))
      send(outbox, done.origin, partEvents.feedback(done.ticket, result));
  }
  return outbox;
}

/** Marks a part ready and redelivers, in order, what it had not acknowledged and what was held for it. */
function partBecameReady(context: RouterContext, record: PartRecord): Outbox {
  const outbox: Outbox = [];
  const name = record.spec.name;
  record.status = "ready";
  record.readySince = context.now();
  record.everReady = true;
  for (const delivery of record.pending) send(outbox, name, partEvents.deliver(delivery));
  if (record.pressure.size > 0) send(outbox, name, partEvents.pause());
  if (record.spec.role === "outbound") applyPressure(context, outbox, name, false);
  return outbox;
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
    route: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "router.route") return;
      const outbox = routeBatch(context, event.part, event.messages, event.ticket, event.to, event.envelope);
      for (const [to, out] of outbox) enqueue.sendTo(to, out);
    }),
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
    };
  },
  initial: "starting",
  entry: "spawnParts",
  on: {
    "router.route": { actions: "route" },
    "router.ack": { actions: "settle" },
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
