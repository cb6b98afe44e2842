import type { InspectionEvent } from "xstate";
import { createInspectorServer, type InspectorServer } from "./inspector/createInspectorServer.js";
import type {
  InspectorEvent,
  InspectorEventType,
  InspectorRoute,
  InspectorSource,
} from "./inspector/types.js";
import type { PartDefinition } from "./part.js";
import type { PartInfo, ServerEvent } from "./serverTemplate.js";
import { machineToGraph } from "./viz/machineToGraph.js";
import type { StateGraph } from "./viz/StateGraph.js";

/** Where a server's live inspector listens. */
export interface InspectOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** @default "127.0.0.1" */
  host?: string;
}

/** What the inspection needs from a server (a `ServerTemplate`). */
export interface InspectedServer {
  readonly name: string;
  parts(): PartInfo[];
  definitions(): ReadonlyArray<{ name: string; part: PartDefinition }>;
  on(type: "*", listener: (event: ServerEvent) => void): () => void;
}

function text(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Feeds a server's live inspector: snapshots from `server.parts()`, lifecycle events from the router,
 * and state changes from xstate's inspection API (`observe`, given to the router's `createActor` only
 * when an inspector is on — with none, nothing is observed and the hot path pays nothing).
 */
export class ServerInspection implements InspectorSource {
  readonly #server: InspectedServer;
  readonly #listeners = new Set<(event: InspectorEvent) => void>();
  readonly #lastState = new Map<string, unknown>();
  readonly #partNames: Set<string>;
  readonly #statecharts: Record<string, StateGraph> = {};
  #inspector: InspectorServer | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(server: InspectedServer) {
    this.#server = server;
    const definitions = server.definitions();
    this.#partNames = new Set(definitions.map((d) => d.name));
    for (const { part } of definitions) this.#statecharts[part.partType] ??= machineToGraph(part.machine);
  }

  /** xstate's inspection callback: turns part snapshots whose state changed into `part.state` events. */
  readonly observe = (event: InspectionEvent): void => {
    if (event.type !== "@xstate.snapshot") return;
    const id = (event.actorRef as { id?: string }).id;
    if (id === undefined || !this.#partNames.has(id) || this.#listeners.size === 0) return;
    const value = (event.snapshot as { value?: unknown }).value;
    if (value === undefined || this.#lastState.get(id) === value) return;
    this.#lastState.set(id, value);
    this.#publish({ type: "part.state", part: id, at: Date.now(), detail: dotted(value) });
  };

  snapshot() {
    const parts = this.#server.parts();
    const routes: InspectorRoute[] = [];
    for (const part of parts) {
      if (part.kind !== "inbound" || !part.route) continue;
      const target = parts.find((p) => p.name === part.route);
      routes.push({
        from: part.name,
        to: part.route,
        block: part.block,
        ...(target?.route ? { reroute: target.route } : {}),
      });
    }
    return {
      server: this.#server.name,
      parts: parts.map((p) => ({
        name: p.name,
        kind: p.kind,
        partType: p.partType,
        state: p.state,
        restarts: p.restarts,
        messagesIn: p.messagesIn,
        messagesOut: p.messagesOut,
        errors: p.badFrames,
        ...(p.lastError ? { lastError: p.lastError } : {}),
      })),
      routes,
      statecharts: this.#statecharts,
    };
  }

  subscribe(listener: (event: InspectorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #publish(event: InspectorEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Starts the HTTP inspector; resolves with its URL. */
  async listen(options: InspectOptions): Promise<string> {
    this.#unsubscribe = this.#server.on("*", (event) => {
      const part = "part" in event ? event.part : undefined;
      const detail =
        event.type === "part.failed" || event.type === "server.escalated"
          ? text(event.error)
          : event.type === "part.restarted"
            ? `restart ${event.restarts}`
            : undefined;
      const type: InspectorEventType =
        event.type === "server.ready"
          ? "server.started"
          : event.type === "part.exited"
            ? "part.stopped"
            : event.type;
      this.#publish({ type, ...(part ? { part } : {}), at: Date.now(), ...(detail ? { detail } : {}) });
    });
    this.#inspector = await createInspectorServer({
      port: options.port,
      host: options.host ?? "127.0.0.1",
      source: this,
    });
    return this.#inspector.url;
  }

  /** Closes the inspector and every open page stream. */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    await this.#inspector?.close();
    this.#listeners.clear();
  }
}

function dotted(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    return Object.entries(value)
      .map(([key, inner]) => {
        const rest = dotted(inner);
        return rest ? `${key}.${rest}` : key;
      })
      .join(",");
  }
  return "";
}
