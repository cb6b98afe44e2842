import { type Actor, type AnyActorRef, createActor, type InspectionEvent } from "xstate";
import { type RouterPartSpec, routerMachine } from "../machines/router.js";
import type { SupervisionPolicy } from "../machines/supervision.js";
import type { PalmError } from "./errors.js";
import type { LivenessEvent } from "./liveness/livenessEvents.js";
import type { Logger } from "./logger.js";
import type { ServerEvent, ServerListeners } from "./serverEvents.js";
import { escalationError } from "./serverWiring.js";
import type { SocketKeeper } from "./sockets/socketKeeper.js";

/** A server's router actor. @internal */
export type RouterActor = Actor<typeof routerMachine>;

/** What `startRouter` needs: the parts' specs, the policy, and where its events and sockets go. @internal */
export interface RouterSetup {
  readonly server: string;
  readonly parts: RouterPartSpec[];
  readonly policy: SupervisionPolicy;
  readonly now: (() => number) | undefined;
  readonly random: (() => number) | undefined;
  readonly observe: ((event: InspectionEvent) => void) | undefined;
  /** Told of the router before it starts (an inspector attaches to its system). */
  readonly created?: (router: RouterActor) => void;
  readonly keeper: SocketKeeper;
  readonly listeners: ServerListeners;
  readonly logger: Logger;
  /** Told when the router gives up; `started` rejects with the error once this settles. */
  readonly escalated: (error: PalmError) => Promise<void>;
}

/**
 * Creates and starts a server's router: its lifecycle events and its parts' notices go to the listeners,
 * a part stopped for good gives its socket back. `started` resolves once every part is ready, or rejects
 * with the escalation error. @internal
 */
export function startRouter(setup: RouterSetup): { router: RouterActor; started: Promise<void> } {
  const { server, parts, policy, now, random, observe, keeper, listeners, logger } = setup;
  const router = createActor(routerMachine, {
    input: { server, parts, policy, now, random },
    ...(observe ? { inspect: observe } : {}),
  });
  setup.created?.(router);
  const started = new Promise<void>((resolve, reject) => {
    router.on("server.ready", () => resolve());
    router.on("server.escalated", (event) => {
      const error = escalationError(server, event);
      void setup.escalated(error).then(() => reject(error));
    });
  });
  router.on("*", (event) => {
    // A part's notice (a master's worker events) reaches listeners of its own name only.
    if (event.type === "server.notice") listeners.emit(event.event as LivenessEvent, false);
    else listeners.emit(event as ServerEvent);
  });
  // A part stopped for good (temporary, or transient after a normal exit) gives its socket back.
  const release = (event: { part: string; restartInMs: number | undefined }) => {
    if (event.restartInMs === undefined) keeper.discard(event.part);
  };
  router.on("part.failed", release);
  router.on("part.exited", release);
  router.subscribe({
    error: (error) => logger.error({ err: error }, "router failed"),
  });
  router.start();
  return { router, started };
}

/** A part's actor, whatever its status (undefined while it restarts or once it stopped). @internal */
export function partActor(router: RouterActor | undefined, part: string): AnyActorRef | undefined {
  return (router?.getSnapshot().children as Record<string, AnyActorRef> | undefined)?.[part];
}

/** A part's running instance, if the router has one that is starting or ready. @internal */
export function livePart(router: RouterActor | undefined, part: string): AnyActorRef | undefined {
  const status = router?.getSnapshot().context.records[part]?.status;
  return status === "ready" || status === "starting" ? partActor(router, part) : undefined;
}

/**
 * Resolves once no part holds a message (parts stopped for good hold none), checked at every change of
 * the router, or after `timeoutMs`. @internal
 */
export function drained(router: RouterActor, timeoutMs: number): Promise<void> {
  const pending = () => {
    const { records } = router.getSnapshot().context;
    let total = 0;
    for (const record of Object.values(records))
      if (record.status !== "stopped") total += record.pendingMessages;
    return total;
  };
  return new Promise((resolve) => {
    let subscription: { unsubscribe(): void } | undefined;
    let ended = false;
    const finish = () => {
      ended = true;
      clearTimeout(timer);
      subscription?.unsubscribe();
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    subscription = router.subscribe({
      next: () => {
        if (pending() === 0) finish();
      },
      error: finish,
      complete: finish,
    });
    if (ended) subscription.unsubscribe();
    else if (pending() === 0) finish();
  });
}

/**
 * Resolves true once `done` holds for the snapshot of a part's running actor (checked at every change of
 * the part or of the router), or false after `timeoutMs` or once `running()` says no. @internal
 */
export function waitForPart(
  router: RouterActor,
  part: string,
  done: (snapshot: unknown) => boolean,
  timeoutMs: number,
  running: () => boolean,
): Promise<boolean> {
  return new Promise((resolve) => {
    let watched: AnyActorRef | undefined;
    let childSubscription: { unsubscribe(): void } | undefined;
    const finish = (result: boolean) => {
      clearTimeout(timer);
      routerSubscription.unsubscribe();
      childSubscription?.unsubscribe();
      resolve(result);
    };
    const check = () => {
      if (!running()) return finish(false);
      const child = livePart(router, part);
      if (child !== watched) {
        // A restarted part is a new actor: follow it.
        childSubscription?.unsubscribe();
        watched = child;
        childSubscription = child?.subscribe({ next: check, error: () => undefined });
      }
      if (child && done(child.getSnapshot())) finish(true);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const routerSubscription = router.subscribe({ next: check, error: () => undefined });
    check();
  });
}
