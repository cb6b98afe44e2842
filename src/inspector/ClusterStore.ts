import type { StateGraph } from "../viz/StateGraph.js";
import type { ClusterProcess, ClusterSnapshot, InspectorEvent, InspectorLiveSnapshot } from "./types.js";

interface ProcessEntry {
  readonly process: string;
  readonly url: string;
  connected: boolean;
  snapshot: InspectorLiveSnapshot | undefined;
}

/**
 * What a cluster page shows: several processes' live snapshots and one stream of their events, each
 * tagged with its process. `palm inspect URL…` fills it from the processes' inspectors; a test (or any
 * synthetic source) may fill it directly.
 *
 * @example
 * const store = new ClusterStore("live");
 * const master = store.addProcess("http://127.0.0.1:9000/", "master");
 * store.setSnapshot(master, snapshot);
 * store.emit(master, { type: "part.failed", part: "Pull", at: Date.now() });
 */
export class ClusterStore {
  readonly mode: "live" | "replay";
  readonly #processes = new Map<string, ProcessEntry>();
  readonly #statecharts: Record<string, StateGraph> = {};
  readonly #listeners = new Set<(event: InspectorEvent) => void>();

  constructor(mode: "live" | "replay" = "live") {
    this.mode = mode;
  }

  /** Adds a process; returns the name the page shows for it (`name`, made unique with `#2`, `#3`…). */
  addProcess(url: string, name: string): string {
    let unique = name;
    for (let n = 2; this.#processes.has(unique); n++) unique = `${name}#${n}`;
    this.#processes.set(unique, { process: unique, url, connected: false, snapshot: undefined });
    return unique;
  }

  /** Stores a process's latest live snapshot (and marks it connected). */
  setSnapshot(process: string, snapshot: InspectorLiveSnapshot): void {
    const entry = this.#entry(process);
    entry.snapshot = snapshot;
    entry.connected = true;
  }

  /** Marks a process reachable or not. */
  setConnected(process: string, connected: boolean): void {
    this.#entry(process).connected = connected;
  }

  /** Adds statecharts by part type (a part type already known keeps its first drawing). */
  addStatecharts(statecharts: Readonly<Record<string, StateGraph>>): void {
    for (const [partType, graph] of Object.entries(statecharts)) this.#statecharts[partType] ??= graph;
  }

  /** Every statechart known, by part type. */
  statecharts(): Readonly<Record<string, StateGraph>> {
    return this.#statecharts;
  }

  /** Sends an event of `process` to every subscriber. */
  emit(process: string, event: InspectorEvent): void {
    const tagged: InspectorEvent = { ...event, process };
    for (const listener of this.#listeners) listener(tagged);
  }

  /** Every process, in the order added. */
  snapshot(): ClusterSnapshot {
    const processes: ClusterProcess[] = [];
    for (const { process, url, connected, snapshot } of this.#processes.values()) {
      processes.push({ process, url, connected, ...(snapshot ? { snapshot } : {}) });
    }
    return { mode: this.mode, processes };
  }

  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (event: InspectorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #entry(process: string): ProcessEntry {
    const entry = this.#processes.get(process);
    if (!entry) throw new TypeError(`ClusterStore: no process named "${process}"`);
    return entry;
  }
}
