import type { AnyActorRef } from "xstate";
import type { PartContext } from "../machines/partSetup.js";
import type { RouterEmitted, routerMachine } from "../machines/router.js";
import type { PartRole } from "../machines/types.js";
import type { LivenessEvent } from "./liveness/livenessEvents.js";
import type { Logger } from "./logger.js";
import type { Registration } from "./partRegistry.js";

/** What `server.parts()` reports for each part. */
export interface PartInfo {
  readonly name: string;
  readonly partType: string;
  readonly kind: PartRole;
  readonly address: string;
  /** The part's current state, dotted (`running.ready.flowing`); `down` while it restarts. */
  readonly state: string;
  readonly status: string;
  readonly restarts: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly badFrames: number;
  /** Messages handed to the part (or held for it) that it has not acknowledged yet. */
  readonly pending: number;
  readonly lastError: string | undefined;
  readonly route: string | undefined;
  readonly block: boolean;
}

/** Lifecycle events a server emits (what `on("*")` receives). */
export type ServerEvent = Exclude<RouterEmitted, { type: "server.notice" }>;
/** The `type` of a lifecycle event (`part.restarted`, `server.escalated`, …). */
export type ServerEventType = ServerEvent["type"];
/** Every event a server emits by name: the lifecycle events and a Master's or Hub's worker events. */
export type AnyServerEvent = ServerEvent | LivenessEvent;
export type AnyServerEventType = AnyServerEvent["type"];
/** The event each name passed to `on` delivers (`*`: every lifecycle event). */
export type ServerEventMap = { [E in AnyServerEvent as E["type"]]: E } & { "*": ServerEvent };

/** A router's snapshot, as `partInfos` reads it. */
type RouterSnapshot = ReturnType<(typeof routerMachine)["getInitialSnapshot"]>;

/** Turns a state value such as `{ running: { ready: "flowing" } }` into `running.ready.flowing`. */
export function stateName(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const [key, inner] = Object.entries(value)[0] ?? [];
    if (key === undefined) return "";
    const rest = stateName(inner);
    return rest ? `${key}.${rest}` : key;
  }
  return "";
}

/** An error's message (or the value as text); undefined for no error. @internal */
export function errorText(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return error instanceof Error ? error.message : String(error);
}

/** Each registered part's name, kind, state, counters, restarts and last error, from the router's snapshot. */
export function partInfos(
  registrations: readonly Registration[],
  snapshot: RouterSnapshot | undefined,
): PartInfo[] {
  return registrations.map((r) => {
    const record = snapshot?.context.records[r.name];
    const child = (snapshot?.children as Record<string, AnyActorRef> | undefined)?.[r.name];
    const partSnapshot = child?.getSnapshot() as { value: unknown; context: PartContext } | undefined;
    const status = record?.status ?? "new";
    return {
      name: r.name,
      partType: r.part.partType,
      kind: r.role,
      address: r.address,
      state:
        status === "ready" || status === "starting"
          ? stateName(partSnapshot?.value) || status
          : status === "restarting"
            ? "down"
            : status,
      status,
      restarts: record?.restarts ?? 0,
      messagesIn: partSnapshot?.context.messagesIn ?? 0,
      messagesOut: partSnapshot?.context.messagesOut ?? 0,
      badFrames: record?.badFrames ?? 0,
      pending: record?.pendingMessages ?? 0,
      lastError: errorText(record?.lastError),
      route: r.options.route,
      block: r.options.block === true,
    };
  });
}

/** A server's event listeners, by event name (`*`: every lifecycle event). @internal */
export class ServerListeners {
  readonly #listeners = new Map<string, Set<(event: AnyServerEvent) => void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds a listener; returns what removes it. */
  on<K extends keyof ServerEventMap>(type: K, listener: (event: ServerEventMap[K]) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    const fn = listener as (event: AnyServerEvent) => void;
    set.add(fn);
    return () => set.delete(fn);
  }

  /**
   * Tells the listeners of the event's name, and for a lifecycle event those of `*` too. A listener that
   * throws is logged; the others still hear of the event.
   */
  emit(event: AnyServerEvent, lifecycle = true): void {
    if (event.type === "part.failed")
      this.#logger.warn({ err: event.error, part: event.part }, "part failed");
    for (const type of lifecycle ? [event.type, "*"] : [event.type]) {
      for (const listener of this.#listeners.get(type) ?? []) {
        try {
          listener(event);
        } catch (error) {
          this.#logger.error({ err: error, event: event.type }, "a lifecycle listener threw");
        }
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
