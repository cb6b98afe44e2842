import { closeSync, existsSync, openSync, renameSync, writeSync } from "node:fs";
import type { StateGraph } from "../viz/StateGraph.js";
import type { InspectorEvent, InspectorLiveSnapshot } from "./types.js";

/** The version written in every trace's header line; readers reject traces of a later version. */
export const TRACE_VERSION = 1;

/**
 * One line of a palm trace (JSON lines): a `header` first, then each process's statecharts, then its
 * live snapshots (each time one changed) and events, in time order. Every record but the header names
 * its process, so the lines of several traces merge by `at` alone.
 */
export type TraceRecord =
  | { readonly type: "header"; readonly palmTrace: number; readonly at: number; readonly pid: number }
  | {
      readonly type: "statecharts";
      readonly process: string;
      readonly at: number;
      readonly statecharts: Readonly<Record<string, StateGraph>>;
    }
  | {
      readonly type: "snapshot";
      readonly process: string;
      readonly at: number;
      readonly snapshot: InspectorLiveSnapshot;
    }
  | { readonly type: "event"; readonly process: string; readonly at: number; readonly event: InspectorEvent };

/** Options of a {@link TraceRecorder}. */
export interface TraceRecorderOptions {
  /** The file to write; when full it is renamed to `<file>.1` (replacing an older one) and begun again. */
  readonly file: string;
  /** The most bytes one file holds before it rotates; the trace on disk stays under twice this. @default 33554432 (32 MiB) */
  readonly maxBytes?: number;
}

/**
 * Writes what an inspector page shows to a JSON-lines trace, bounded by rotation. Lines are gathered in
 * memory and written at each {@link TraceRecorder.flush} (the inspector calls it with its page updates),
 * so the message path never waits on the disk.
 *
 * @internal
 */
export class TraceRecorder {
  readonly #file: string;
  readonly #maxBytes: number;
  readonly #statecharts = new Map<string, string>();
  readonly #lastSnapshot = new Map<string, { json: string; at: number }>();
  #fd: number | undefined;
  #bytes = 0;
  #pending: string[] = [];

  constructor(options: TraceRecorderOptions) {
    this.#file = options.file;
    this.#maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.#open();
  }

  /** Records a process's statecharts (kept, and written again at the top of a rotated file). */
  statecharts(process: string, statecharts: Readonly<Record<string, StateGraph>>, at = Date.now()): void {
    const line = JSON.stringify({ type: "statecharts", process, at, statecharts });
    this.#statecharts.set(process, line);
    this.#pending.push(line);
  }

  /** Queues an event of `process`. */
  event(process: string, event: InspectorEvent): void {
    if (this.#fd === undefined) return;
    this.#pending.push(JSON.stringify({ type: "event", process, at: event.at, event }));
  }

  /** Queues the live snapshot of `process` (as JSON), unless it is the same as the last one recorded. */
  snapshot(process: string, json: string, at = Date.now()): void {
    if (this.#fd === undefined || json === this.#lastSnapshot.get(process)?.json) return;
    this.#lastSnapshot.set(process, { json, at });
    this.#pending.push(snapshotLine(process, json, at));
  }

  /** Writes what is queued, rotating the file when it is full. */
  flush(): void {
    if (this.#fd === undefined || this.#pending.length === 0) return;
    const chunk = `${this.#pending.join("\n")}\n`;
    this.#pending = [];
    if (this.#bytes + chunk.length > this.#maxBytes) this.#rotate();
    this.#write(chunk);
  }

  /** Writes what is queued and closes the file; idempotent. */
  close(): void {
    this.flush();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #open(): void {
    this.#fd = openSync(this.#file, "w");
    this.#bytes = 0;
    const now = Date.now();
    const lines = [JSON.stringify({ type: "header", palmTrace: TRACE_VERSION, at: now, pid: process.pid })];
    // A rotated file starts from what the page showed, so it replays on its own.
    lines.push(...this.#statecharts.values());
    for (const [name, { json, at }] of this.#lastSnapshot) lines.push(snapshotLine(name, json, at));
    this.#write(`${lines.join("\n")}\n`);
  }

  #rotate(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    if (existsSync(this.#file)) renameSync(this.#file, `${this.#file}.1`);
    this.#open();
  }

  #write(text: string): void {
    if (this.#fd === undefined) return;
    const bytes = Buffer.from(text);
    writeSync(this.#fd, bytes);
    this.#bytes += bytes.length;
  }
}

function snapshotLine(process: string, json: string, at: number): string {
  return `{"type":"snapshot","process":${JSON.stringify(process)},"at":${at},"snapshot":${json}}`;
}
