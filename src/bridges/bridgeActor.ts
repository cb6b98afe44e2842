import { type EventObject, fromCallback } from "xstate";
import { type BridgeCommand, type BridgeEvent, partEvents } from "../../machines/events.js";
import type { PartInput } from "../../machines/partSetup.js";
import type { PalmMessage } from "../message.js";
import type { PartEnvironment, PartHooks } from "../part.js";
import type { BadInputListener, BatchListener, FrameBatch, KeptSocket } from "../sockets/keptSocket.js";

/** Starts a part's bridge: what it is given, and what it returns to stop it. */
export type BridgeStart<Command extends EventObject, Event> = (
  environment: PartEnvironment,
  send: (event: Event) => void,
  receive: (listener: (command: Command) => void) => void,
) => (() => void) | undefined;

/**
 * A part's bridge actor, the callback actor its machine runs as `bridge`: `start` gets the part's
 * environment, `send` for the events to its machine and `receive` for its machine's commands.
 */
export function bridgeActor<Command extends EventObject = BridgeCommand, Event = BridgeEvent>(
  start: BridgeStart<Command, Event>,
) {
  return fromCallback<Command, PartInput>(({ input, sendBack, receive }) =>
    start(input.bridge as PartEnvironment, sendBack as (event: Event) => void, receive),
  );
}

/**
 * What a bridge over a kept socket does with an error of its socket: the socket is discarded, so the part
 * restarted opens a fresh one, and the part faults. Nothing once the bridge is stopped.
 */
export function discardOnFault(
  environment: PartEnvironment,
  send: (event: BridgeEvent) => void,
  isOpen: () => boolean,
): (error: unknown) => void {
  return (error) => {
    if (!isOpen()) return;
    environment.keeper.discard(environment.name);
    send(partEvents.fault(error));
  };
}

/** Where a service part keeps the address it bound, so a restart binds the same one again. */
export interface BoundAddress {
  resolved: string | undefined;
}

/** How a bound service part publishes its address and reads its socket (see `readyWhenBound`). */
export interface BoundService {
  /** Where the address actually bound is kept for restarts. */
  readonly address: BoundAddress;
  /** The cache key peers discover the address under. */
  readonly cacheKey: string;
  readonly onBatch: BatchListener;
  readonly onError: (error: unknown) => void;
  readonly onBad: BadInputListener;
  /** Runs once the part has said it is ready (what waited across a restart goes on from here). */
  readonly onReady?: () => void;
}

/**
 * Once a service part's socket is bound: keeps the address actually bound (a wildcard port resolved) for
 * restarts, publishes it read-only in the server's cache (like every address published for discovery),
 * attaches the socket's listeners and tells the machine the part is ready. A failure to bind is `onError`.
 */
export function readyWhenBound(
  kept: KeptSocket,
  environment: PartEnvironment,
  send: (event: BridgeEvent) => void,
  isOpen: () => boolean,
  service: BoundService,
): void {
  kept.ready.then(() => {
    if (!isOpen()) return;
    const bound = kept.socket.lastEndpoint ?? environment.address;
    service.address.resolved = bound;
    environment.cache.setProtected(service.cacheKey, bound);
    kept.attach(service.onBatch, service.onError, service.onBad);
    send(partEvents.ready());
    service.onReady?.();
  }, service.onError);
}

/**
 * Hands received messages to the machine: to the part's route, except those the `divert` hook names
 * another outbound part for, each handed over on its own for that part.
 */
export function sendReceived(
  messages: PalmMessage[],
  divert: PartHooks["divert"],
  send: (event: BridgeEvent) => void,
): void {
  if (!divert) {
    send(partEvents.received(messages));
    return;
  }
  const routed: PalmMessage[] = [];
  for (const message of messages) {
    const to = divert(message);
    if (to === undefined) routed.push(message);
    else send(partEvents.received([message], to));
  }
  if (routed.length > 0) send(partEvents.received(routed));
}

/** A part that holds what it reads until it is ready (see `readyGate`). */
export interface ReadyGate {
  /** Says the part is ready (once; nothing once the bridge is stopped) and hands on what was held. */
  open(): void;
  /** Hands a batch on, or holds it while the part is not ready yet. */
  take(batch: FrameBatch): void | Promise<void>;
}

/**
 * Holds what an inbound part reads before it is ready (a SUB whose publisher has not answered its greeting
 * yet), so nothing published after `start()` resolves is lost and nothing goes to the router early.
 */
export function readyGate(
  send: (event: BridgeEvent) => void,
  isOpen: () => boolean,
  deliver: (batch: FrameBatch) => void | Promise<void>,
): ReadyGate {
  let ready = false;
  let early: FrameBatch = [];
  return {
    open() {
      if (ready || !isOpen()) return;
      ready = true;
      send(partEvents.ready());
      const held = early;
      early = [];
      if (held.length > 0) void deliver(held);
    },
    take(batch) {
      if (batch.length === 0) return;
      if (ready) return deliver(batch);
      for (const frames of batch) early.push(frames);
    },
  };
}
