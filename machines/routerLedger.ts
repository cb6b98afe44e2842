import type { AnyActorLogic } from "xstate";
import { type ControlEvent, partEvents } from "./events.js";
import { DEFAULT_HIGH_WATER, type PartInput } from "./partSetup.js";
import type { SupervisionPolicy } from "./supervision.js";
import type { Delivery, PalmMessage, PartRole, RestartType } from "./types.js";

// The router's ledger: what each part was handed and has not acknowledged, and the decisions taken on it
// (deliver, hold, settle, pressure), as plain functions over the router's context that return the events
// to send. The router machine calls them from its actions.

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
  /**
   * The part takes several deliveries in one event (`part.deliverAll`): while it has not acknowledged what
   * it was handed, the router holds what comes for it and hands it over as one event with the
   * acknowledgement, so a busy part costs one transition per batch rather than one per message.
   */
  readonly takesBatches: boolean;
  /** The last delivery handed to the part; pending deliveries after it are held. */
  handedSeq: number;
  /** Messages held for a part that takes batches while it sends. */
  heldMessages: number;
  /** Whether the held messages went past `highWater` and the part's feeders are held back for them. */
  heldBack: boolean;
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
  /**
   * The `part.deliver` the router's `routeDirectly` action decided and its built-in `sendTo` takes (and
   * clears) in the same transition: one allocated slot, reused for every batch.
   */
  readonly direct: { to: string; event: ControlEvent | undefined };
}

export function newRecord(spec: RouterPartSpec): PartRecord {
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
    takesBatches: takesBatches(spec.logic),
    handedSeq: 0,
    heldMessages: 0,
    heldBack: false,
  };
}

/** Whether a part's machine accepts `part.deliverAll` (xstate lists the events a machine handles). */
function takesBatches(logic: AnyActorLogic): boolean {
  const events = (logic as { events?: unknown }).events;
  return Array.isArray(events) && events.includes("part.deliverAll");
}

/** Events the router's helpers decide to send, as (part, event) pairs; the calling action sends them. */
export type Outbox = Array<[string, ControlEvent]>;

function send(outbox: Outbox, part: string, event: ControlEvent): void {
  outbox.push([part, event]);
}

/** Numbers a batch for `record` and appends it to what the part has not acknowledged. */
export function appendDelivery(
  context: RouterContext,
  record: PartRecord,
  messages: PalmMessage[],
  origin: string | undefined,
  ticket: number,
  source: string | undefined,
  envelope: unknown,
): Delivery {
  const originRestarts = origin === undefined ? undefined : context.records[origin]?.restarts;
  const delivery: Delivery =
    envelope === undefined
      ? { seq: record.nextSeq++, messages, origin, ticket, originRestarts, source }
      : { seq: record.nextSeq++, messages, origin, ticket, originRestarts, source, envelope };
  record.pending.push(delivery);
  record.pendingMessages += messages.length;
  return delivery;
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
  const delivery = appendDelivery(context, record, messages, origin, ticket, source, envelope);
  if (record.status !== "ready") {
    // The target is down and its backlog is deep: hold the inbound parts feeding it back.
    if (record.pendingMessages > record.highWater && !record.pressure.has(target))
      applyPressure(context, outbox, target, true);
    return;
  }
  if (record.takesBatches && record.pending[0]!.seq <= record.handedSeq) {
    // The part is still sending what it was handed: this waits for its acknowledgement, with the rest.
    record.heldMessages += messages.length;
    if (!record.heldBack && record.heldMessages > record.highWater) {
      record.heldBack = true;
      applyPressure(context, outbox, target, true);
    }
    return;
  }
  record.handedSeq = delivery.seq;
  send(outbox, target, partEvents.deliver(delivery));
}

/** Hands a part that takes batches everything held for it, as one event, once it has nothing in hand. */
function handOver(context: RouterContext, outbox: Outbox, record: PartRecord): void {
  const { pending } = record;
  if (pending.length === 0 || pending[0]!.seq <= record.handedSeq) return;
  const name = record.spec.name;
  record.handedSeq = pending[pending.length - 1]!.seq;
  record.heldMessages = 0;
  send(
    outbox,
    name,
    pending.length === 1 ? partEvents.deliver(pending[0]!) : partEvents.deliverAll(pending.slice()),
  );
  if (record.heldBack) {
    record.heldBack = false;
    applyPressure(context, outbox, name, false);
  }
}

/** Pauses (or resumes) the inbound parts that route to `outbound`, for `reason` (by default its own queue). */
export function applyPressure(
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

/** Sends a batch an inbound part received on to its route (or straight back, if it has none and waits). */
export function routeBatch(
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
  const route = routeOf(context, spec, to);
  if (route && (messages.length > 0 || envelope !== undefined))
    deliver(context, outbox, route, messages, origin, ticket ?? 0, part, envelope);
  // The origin may have been stopped (with a failed sibling) since it sent this: it has no one to answer.
  else if (origin && context.records[origin]?.status === "ready")
    send(outbox, origin, partEvents.feedback(ticket!, messages));
  return outbox;
}

/** Where `routeBatch` sends a batch: the part named by `to` if it is an outbound part, else the part's route. */
export function routeOf(
  context: RouterContext,
  spec: RouterPartSpec,
  to: string | undefined,
): string | undefined {
  return to !== undefined && context.records[to]?.spec.role === "outbound" ? to : spec.route;
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
export function settleAck(
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
  if (record.takesBatches && record.status === "ready") handOver(context, outbox, record);
  return outbox;
}

/** Marks a part ready and redelivers, in order, what it had not acknowledged and what was held for it. */
export function partBecameReady(context: RouterContext, record: PartRecord): Outbox {
  const outbox: Outbox = [];
  const name = record.spec.name;
  record.status = "ready";
  record.readySince = context.now();
  record.everReady = true;
  if (record.takesBatches) {
    record.handedSeq = 0;
    handOver(context, outbox, record);
  } else for (const delivery of record.pending) send(outbox, name, partEvents.deliver(delivery));
  if (record.pressure.size > 0) send(outbox, name, partEvents.pause());
  if (record.spec.role === "outbound") applyPressure(context, outbox, name, false);
  return outbox;
}
