import type { AnyActorRef, InspectionEvent } from "xstate";
import { createInspectorServer, type InspectorServer } from "./inspector/createInspectorServer.js";
import { InspectionTap } from "./inspector/InspectionTap.js";
import { checkInspectOptions, type InspectOptions } from "./inspector/inspectOptions.js";
import { messageHop } from "./inspector/messageHop.js";
import { actorsOf, dotted, peersOf, type RouterView, supervisionOf } from "./inspector/routerView.js";
import { TraceRecorder } from "./inspector/TraceRecorder.js";
import type {
  InspectorEvent,
  InspectorEventType,
  InspectorFailure,
  InspectorRoute,
  InspectorSnapshot,
  InspectorSource,
} from "./inspector/types.js";
import type { LivenessEvent } from "./liveness/livenessEvents.js";
import type { PalmMessage } from "./message.js";
import type { PartDefinition } from "./part.js";
import type { PartInfo, ServerEvent } from "./serverEvents.js";
import { machineToGraph } from "./viz/machineToGraph.js";
import type { StateGraph } from "./viz/StateGraph.js";

export type { InspectOptions } from "./inspector/inspectOptions.js";
export { checkInspectOptions } from "./inspector/inspectOptions.js";

/** What the inspection needs from a server (a `ServerTemplate`). */
export interface InspectedServer {
  readonly name: string;
  parts(): PartInfo[];
  definitions(): ReadonlyArray<{ name: string; part: PartDefinition }>;
  on(type: "*", listener: (event: ServerEvent) => void): () => void;
  on<T extends LivenessEvent["type"]>(
    type: T,
    listener: (event: Extract<LivenessEvent, { type: T }>) => void,
  ): () => void;
}

/** Failures kept per part for the supervision view. */
const FAILURES_KEPT = 5;
/** Message hops are budgeted per window of this many milliseconds. */
const HOP_WINDOW_MS = 200;

function text(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Feeds a server's live inspector: snapshots from `server.parts()` and the router, lifecycle events from
 * the router, state changes and message hops from xstate's inspection API. That API costs every actor
 * event while subscribed, so it is subscribed (see {@link InspectionTap}) only while a page is connected
 * or a trace is recorded, and shut for the rest of each 200 ms window once `maxHopsPerSecond`'s share of
 * hops is taken: a busy server pays for the hops shown, not for every message.
 */
export class ServerInspection implements InspectorSource {
  readonly #server: InspectedServer;
  readonly #listeners = new Set<(event: InspectorEvent) => void>();
  readonly #lastState = new Map<string, string>();
  readonly #lastValue = new Map<string, unknown>();
  readonly #partNames: Set<string>;
  readonly #statecharts: Record<string, StateGraph> = {};
  readonly #failures = new Map<string, InspectorFailure[]>();
  #options: InspectOptions | undefined;
  #router: AnyActorRef | undefined;
  #inspector: InspectorServer | undefined;
  #recorder: TraceRecorder | undefined;
  #recordTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #hopsPerWindow = (1000 * HOP_WINDOW_MS) / 1000;
  #windowStart = 0;
  #hopsLeft = 0;
  #skipped = 0;
  /** The parts' message counters when the tap was shut, to say how much passed unseen. */
  #movedBefore = 0;
  readonly #tap: InspectionTap;

  constructor(server: InspectedServer) {
    this.#server = server;
    const definitions = server.definitions();
    this.#partNames = new Set(definitions.map((d) => d.name));
    for (const { part } of definitions) this.#statecharts[part.partType] ??= machineToGraph(part.machine);
    this.#tap = new InspectionTap(this.#observe, (pausedMs) => this.#resumed(pausedMs));
  }

  /** Follows the router's actor system (from before it starts, so its first states are seen too). */
  attach(router: AnyActorRef): void {
    this.#router = router;
    this.#tap.attach(router);
  }

  /** Opens the tap while anyone looks: a connected page or a trace. */
  #follow(pages: number): void {
    const following = this.#recorder !== undefined || pages > 0;
    // Seen afresh: a state reported after a gap names as `from` the one the page was last shown.
    if (following && !this.#tap.open) this.#seedStates();
    this.#tap.want(following);
  }

  #seedStates(): void {
    this.#lastValue.clear();
    for (const part of this.#server.parts()) this.#lastState.set(part.name, part.state);
  }

  #moved(): number {
    let moved = 0;
    for (const part of this.#server.parts()) moved += part.messagesIn + part.messagesOut;
    return moved;
  }

  /** The tap reopens after the rest of a window: say what was left out. */
  #resumed(pausedMs: number): void {
    const moved = Math.max(0, this.#moved() - this.#movedBefore); // a part restarted meanwhile counts from 0
    this.#publish({
      type: "messages.sampled",
      at: Date.now(),
      detail: `${this.#skipped} message hops not shown, then hops not followed for ${pausedMs} ms (parts passed ${moved} messages meanwhile)`,
    });
    this.#skipped = 0;
    this.#windowStart = 0;
    this.#seedStates();
  }

  /** xstate's inspection callback: part state changes become `part.state` events, part inputs `message.hop`s. */
  readonly #observe = (event: InspectionEvent): void => {
    if (event.type === "@xstate.event") {
      const type = (event.event as { type: string }).type;
      if (type !== "part.received" && type !== "part.deliver") return;
      const id = (event.actorRef as { id?: string }).id;
      if (id === undefined || !this.#partNames.has(id) || this.#tap.paused) return;
      const messages =
        type === "part.received"
          ? (event.event as unknown as { messages: PalmMessage[] }).messages
          : (event.event as unknown as { delivery: { messages: PalmMessage[] } }).delivery.messages;
      const at = type === "part.received" ? (event.event as { at?: number }).at : undefined;
      this.#hops(id, type === "part.received" ? "in" : "out", messages, at);
      return;
    }
    if (event.type !== "@xstate.snapshot") return;
    const id = (event.actorRef as { id?: string }).id;
    if (id === undefined || !this.#partNames.has(id) || this.#listeners.size === 0) return;
    const value = (event.snapshot as { value?: unknown }).value;
    // xstate keeps the value object while the state stays: most snapshots are dismissed by identity.
    if (value === undefined || this.#lastValue.get(id) === value) return;
    this.#lastValue.set(id, value);
    const state = dotted(value);
    const from = this.#lastState.get(id);
    if (from === state) return;
    this.#lastState.set(id, state);
    this.#publish({
      type: "part.state",
      part: id,
      at: Date.now(),
      detail: state,
      ...(from !== undefined ? { from } : {}),
      cause: (event.event as { type: string }).type,
    });
  };

  #hops(part: string, direction: "in" | "out", messages: readonly PalmMessage[], readAt?: number): void {
    const now = Date.now();
    const at = readAt ?? now;
    if (now - this.#windowStart >= HOP_WINDOW_MS) {
      if (this.#skipped > 0) {
        this.#publish({
          type: "messages.sampled",
          at: now,
          detail: `${this.#skipped} message hops not shown`,
        });
      }
      this.#windowStart = now;
      this.#hopsLeft = this.#hopsPerWindow;
      this.#skipped = 0;
    }
    const redact = this.#options?.redact;
    for (const message of messages) {
      if (message.function.startsWith("~")) continue; // palm's own traffic (heartbeats)
      if (this.#hopsLeft <= 0) {
        this.#skipped++;
        continue;
      }
      this.#hopsLeft--;
      this.#publish({ type: "message.hop", part, at, message: messageHop(message, direction, redact) });
    }
    // The window's share is taken: stop observing until it ends (with no hops allowed at all, part states
    // are still followed and every hop counted).
    if (this.#hopsLeft <= 0 && this.#hopsPerWindow > 0) {
      this.#movedBefore = this.#moved();
      this.#tap.pause(Math.max(1, HOP_WINDOW_MS - (now - this.#windowStart)));
    }
  }

  snapshot(): InspectorSnapshot {
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
    const router = this.#router?.getSnapshot() as RouterView | undefined;
    const supervision = router ? supervisionOf(router) : undefined;
    const actors = router ? actorsOf(router, this.#partNames) : [];
    const peers = router ? peersOf(router) : [];
    return {
      server: this.#server.name,
      parts: parts.map((p) => {
        const failures = this.#failures.get(p.name);
        return {
          name: p.name,
          kind: p.kind,
          partType: p.partType,
          state: p.state,
          restarts: p.restarts,
          messagesIn: p.messagesIn,
          messagesOut: p.messagesOut,
          errors: p.badFrames,
          pending: p.pending,
          ...(p.lastError ? { lastError: p.lastError } : {}),
          ...(failures ? { failures: [...failures] } : {}),
        };
      }),
      routes,
      statecharts: this.#statecharts,
      ...(supervision ? { supervision } : {}),
      ...(actors.length > 0 ? { actors } : {}),
      ...(peers.length > 0 ? { peers } : {}),
    };
  }

  subscribe(listener: (event: InspectorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #publish(event: InspectorEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #failed(part: string, error: unknown, restartInMs: number | undefined, at: number): void {
    const restart = this.#server.parts().find((p) => p.name === part)?.restarts ?? 0;
    const list = this.#failures.get(part) ?? [];
    list.push({
      at,
      reason: text(error) ?? "failed",
      restart,
      ...(restartInMs !== undefined ? { restartInMs } : {}),
    });
    if (list.length > FAILURES_KEPT) list.shift();
    this.#failures.set(part, list);
  }

  /** Starts the HTTP inspector (and the trace, if asked for); resolves with its URL. */
  async listen(inspect: InspectOptions): Promise<string> {
    const options = checkInspectOptions(inspect);
    this.#options = options;
    this.#hopsPerWindow = Math.round(((options.maxHopsPerSecond ?? 1000) * HOP_WINDOW_MS) / 1000);
    // A Master's worker events are not lifecycle events (`*`): each is asked for by name.
    const liveness = [
      this.#server.on("worker.joined", ({ worker, rejoined }) =>
        this.#publish({
          type: "worker.joined",
          at: Date.now(),
          detail: `${worker.name}${rejoined ? " (again)" : ""}`,
        }),
      ),
      this.#server.on("worker.lost", ({ worker }) =>
        this.#publish({ type: "worker.lost", at: Date.now(), detail: worker.name }),
      ),
      this.#server.on("messages.redelivered", ({ count, failed, reason }) =>
        this.#publish({
          type: "messages.redelivered",
          at: Date.now(),
          detail: `${count} redelivered (${reason})${failed > 0 ? `, ${failed} failed after maxAttempts` : ""}`,
        }),
      ),
    ];
    const lifecycle = this.#server.on("*", (event) => {
      const at = Date.now();
      const part = "part" in event ? event.part : undefined;
      if (event.type === "part.failed") this.#failed(event.part, event.error, event.restartInMs, at);
      const detail =
        event.type === "part.failed"
          ? `${text(event.error)}${event.restartInMs === undefined ? "; not restarted" : `; restart in ${event.restartInMs} ms`}`
          : event.type === "server.escalated"
            ? text(event.error)
            : event.type === "part.restarted"
              ? `restart ${event.restarts}${this.#lastReason(event.part)}`
              : undefined;
      const type: InspectorEventType =
        event.type === "server.ready"
          ? "server.started"
          : event.type === "part.exited"
            ? "part.stopped"
            : event.type;
      this.#publish({ type, ...(part ? { part } : {}), at, ...(detail ? { detail } : {}) });
    });
    this.#unsubscribe = () => {
      lifecycle();
      for (const off of liveness) off();
    };
    if (options.record) {
      const recorder = new TraceRecorder({ file: options.record, maxBytes: options.recordMaxBytes });
      const name = this.#server.name;
      recorder.statecharts(name, this.#statecharts);
      this.#recorder = recorder;
      this.#listeners.add((event) => recorder.event(name, event));
      const tick = () => {
        recorder.snapshot(name, liveJson(this.snapshot()));
        recorder.flush();
      };
      tick();
      this.#recordTimer = setInterval(tick, HOP_WINDOW_MS).unref();
    }
    this.#follow(0);
    this.#inspector = await createInspectorServer({
      port: options.port,
      host: options.host ?? "127.0.0.1",
      source: this,
      onPages: (pages) => this.#follow(pages),
    });
    return this.#inspector.url;
  }

  #lastReason(part: string): string {
    const last = this.#failures.get(part)?.at(-1);
    return last ? ` after: ${last.reason}` : "";
  }

  /** Closes the inspector, the trace and every open page stream. */
  async close(): Promise<void> {
    const pausedMs = this.#tap.close();
    if (pausedMs !== undefined) this.#resumed(pausedMs);
    else if (this.#skipped > 0) {
      this.#publish({
        type: "messages.sampled",
        at: Date.now(),
        detail: `${this.#skipped} message hops not shown`,
      });
      this.#skipped = 0;
    }
    this.#unsubscribe?.();
    if (this.#recordTimer) clearInterval(this.#recordTimer);
    if (this.#recorder) {
      this.#recorder.snapshot(this.#server.name, liveJson(this.snapshot()));
      this.#recorder.close();
    }
    await this.#inspector?.close();
    this.#listeners.clear();
  }
}

function liveJson(snapshot: InspectorSnapshot): string {
  const { statecharts: _statecharts, ...live } = snapshot;
  return JSON.stringify(live);
}
