import { ErrorCodes, PalmError } from "../errors.js";
import type { StateGraph } from "../viz/StateGraph.js";
import type {
  InspectorEvent,
  InspectorPart,
  InspectorRoute,
  InspectorSnapshot,
  InspectorSource,
} from "./types.js";

/** The counters of a part that {@link InspectorStore.increment} can bump. */
export type InspectorCounter = "messagesIn" | "messagesOut" | "errors" | "restarts";

/** What an {@link InspectorStore} starts with. */
export interface InspectorStoreOptions {
  /** The server's name. */
  readonly server: string;
  /** The parts, in registration order. @default [] */
  readonly parts?: readonly InspectorPart[];
  /** The routing table. @default [] */
  readonly routes?: readonly InspectorRoute[];
  /** Statecharts keyed by part type. @default {} */
  readonly statecharts?: Readonly<Record<string, StateGraph>>;
}

type MutablePart = { -readonly [K in keyof InspectorPart]: InspectorPart[K] };

/**
 * An in-memory {@link InspectorSource}: whoever watches the server (an xstate inspection
 * subscriber, a test) writes states, counters and events into it, and the inspector reads it.
 * Writes are cheap (no allocation for counters), so it can sit on the message path.
 *
 * @example
 * const store = new InspectorStore({ server: "master", parts, statecharts });
 * const inspector = await createInspectorServer({ port: 8080, source: store });
 * store.increment("pull", "messagesIn");
 * store.emit({ type: "part.restarted", part: "pull" });
 */
export class InspectorStore implements InspectorSource {
  readonly #server: string;
  readonly #parts = new Map<string, MutablePart>();
  #routes: readonly InspectorRoute[];
  #statecharts: Readonly<Record<string, StateGraph>>;
  readonly #listeners = new Set<(event: InspectorEvent) => void>();

  constructor(options: InspectorStoreOptions) {
    this.#server = options.server;
    for (const part of options.parts ?? []) this.addPart(part);
    this.#routes = options.routes ?? [];
    this.#statecharts = options.statecharts ?? {};
  }

  /** Adds a part (or replaces the part of the same name). */
  addPart(part: InspectorPart): void {
    this.#parts.set(part.name, { ...part });
  }

  /** Replaces the routing table. */
  setRoutes(routes: readonly InspectorRoute[]): void {
    this.#routes = routes;
  }

  /** Adds or replaces the statechart drawn for a part type. */
  setStatechart(partType: string, graph: StateGraph): void {
    this.#statecharts = { ...this.#statecharts, [partType]: graph };
  }

  /** Changes some fields of a part; throws `PALM_ERR_PART_UNKNOWN` for a name never added. */
  updatePart(name: string, patch: Partial<Omit<InspectorPart, "name">>): void {
    Object.assign(this.#part(name), patch);
  }

  /** Adds `by` to one counter of a part. */
  increment(name: string, counter: InspectorCounter, by = 1): void {
    this.#part(name)[counter] += by;
  }

  /** Sends an event to every subscriber; `at` defaults to now. */
  emit(event: Omit<InspectorEvent, "at"> & { readonly at?: number }): void {
    const stamped: InspectorEvent = { ...event, at: event.at ?? Date.now() };
    for (const listener of [...this.#listeners]) listener(stamped);
  }

  /** A copy of the current state of every part, the routes and the statecharts. */
  snapshot(): InspectorSnapshot {
    return {
      server: this.#server,
      parts: [...this.#parts.values()].map((part) => ({ ...part })),
      routes: this.#routes,
      statecharts: this.#statecharts,
    };
  }

  /** Calls `listener` for every emitted event until the returned function is called. */
  subscribe(listener: (event: InspectorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #part(name: string): MutablePart {
    const part = this.#parts.get(name);
    if (!part) {
      throw new PalmError(
        ErrorCodes.PALM_ERR_PART_UNKNOWN,
        `Expected a part added to the inspector, got \`${name}\``,
      );
    }
    return part;
  }
}
