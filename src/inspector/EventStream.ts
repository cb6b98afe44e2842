import type { ServerResponse } from "node:http";
import type { InspectorEvent } from "./types.js";

/** How an {@link EventStream} paces its writes. */
export interface EventStreamOptions {
  /** Reads the current live snapshot as JSON. */
  readonly snapshotJson: () => string;
  /** Milliseconds between flushes: the most one client gets is one write per interval. @default 200 */
  readonly intervalMs?: number;
  /** Milliseconds between keep-alive comments on an idle connection. @default 15000 */
  readonly heartbeatMs?: number;
  /** Events kept per flush interval; older ones are counted as missed. @default 1000 */
  readonly maxPendingEvents?: number;
  /** Told when reading the snapshot fails during a flush (the flush then sends events only). */
  readonly onError: (error: unknown) => void;
  /** Told how many pages are connected whenever one connects or leaves. */
  readonly onClients?: (count: number) => void;
}

interface Client {
  readonly response: ServerResponse;
  /** The last snapshot JSON this client was sent. */
  lastSnapshot: string;
  /** Set while the socket's buffer is full: writes wait for `drain`. */
  congested: boolean;
  /** Events this client did not get (congestion or overflow), reported as a `gap` event. */
  missed: number;
  lastWriteAt: number;
}

/**
 * The inspector's server-sent event fan-out. Events are queued and, together with the snapshot
 * when it changed, flushed to every client in one write per interval, so a busy server costs at
 * most ~5 writes a second per page however many messages flow. A client whose socket backs up
 * is skipped (and later told how many events it missed) instead of buffering without bound.
 *
 * Wire format: each {@link InspectorEvent} is a default `message` event with a JSON `data:` line;
 * snapshots are `event: snapshot`; missed events are `event: gap` with `{"missed": n}`.
 *
 * @internal
 */
export class EventStream {
  readonly #clients = new Set<Client>();
  readonly #snapshotJson: () => string;
  readonly #intervalMs: number;
  readonly #heartbeatMs: number;
  readonly #maxPendingEvents: number;
  readonly #onError: (error: unknown) => void;
  readonly #onClients: ((count: number) => void) | undefined;
  /** Events queued for the next flush, in a ring: the oldest are overwritten (and counted) when it is full. */
  #ring: Array<InspectorEvent | undefined>;
  #head = 0;
  #count = 0;
  #overflow = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: EventStreamOptions) {
    this.#snapshotJson = options.snapshotJson;
    this.#intervalMs = options.intervalMs ?? 200;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#maxPendingEvents = options.maxPendingEvents ?? 1000;
    this.#ring = new Array(this.#maxPendingEvents);
    this.#onError = options.onError;
    this.#onClients = options.onClients;
  }

  /** How many pages are connected. */
  get size(): number {
    return this.#clients.size;
  }

  /** Takes over an HTTP response as an event stream and sends it the current snapshot. */
  add(response: ServerResponse): void {
    if (this.#closed) {
      response.writeHead(503).end();
      return;
    }
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    const snapshot = this.#snapshotJson();
    const client: Client = {
      response,
      lastSnapshot: snapshot,
      congested: false,
      missed: 0,
      lastWriteAt: Date.now(),
    };
    this.#clients.add(client);
    response.on("close", () => {
      if (this.#clients.delete(client)) this.#onClients?.(this.#clients.size);
    });
    response.on("drain", () => {
      client.congested = false;
    });
    this.#write(client, `retry: 1000\n\nevent: snapshot\ndata: ${snapshot}\n\n`);
    this.#timer ??= setInterval(() => this.#flush(), this.#intervalMs).unref();
    this.#onClients?.(this.#clients.size);
  }

  /** Queues an event for the next flush (dropped at once when nobody is listening). */
  push(event: InspectorEvent): void {
    if (this.#clients.size === 0) return;
    // Kept as objects and serialised at the flush: on a busy server most events are overwritten unread,
    // and those cost no JSON and no copying.
    const max = this.#maxPendingEvents;
    if (this.#count < max) {
      this.#ring[(this.#head + this.#count) % max] = event;
      this.#count++;
    } else {
      this.#ring[this.#head] = event;
      this.#head = (this.#head + 1) % max;
      this.#overflow++;
    }
  }

  /** Takes the queued events as one chunk of `data:` lines, oldest first. */
  #drain(): { text: string; count: number } {
    const max = this.#maxPendingEvents;
    let text = "";
    for (let i = 0; i < this.#count; i++) {
      const index = (this.#head + i) % max;
      text += `data: ${JSON.stringify(this.#ring[index])}\n\n`;
      this.#ring[index] = undefined;
    }
    const count = this.#count;
    this.#head = 0;
    this.#count = 0;
    return { text, count };
  }

  /** Ends every stream and stops the timer; later `add` calls get 503. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#stopTimer();
    for (const client of this.#clients) client.response.end();
    const had = this.#clients.size;
    this.#clients.clear();
    if (had > 0) this.#onClients?.(0);
    this.#drain();
  }

  #flush(): void {
    if (this.#clients.size === 0) {
      this.#stopTimer();
      this.#drain();
      this.#overflow = 0;
      return;
    }
    const { text: events, count: eventCount } = this.#drain();
    const overflow = this.#overflow;
    this.#overflow = 0;
    let snapshot: string | undefined;
    try {
      snapshot = this.#snapshotJson();
    } catch (error) {
      this.#onError(error);
    }
    const now = Date.now();
    for (const client of this.#clients) {
      client.missed += overflow;
      if (client.congested) {
        client.missed += eventCount;
        continue;
      }
      let chunk = "";
      if (client.missed > 0) chunk += `event: gap\ndata: {"missed":${client.missed}}\n\n`;
      chunk += events;
      if (snapshot !== undefined && snapshot !== client.lastSnapshot) {
        chunk += `event: snapshot\ndata: ${snapshot}\n\n`;
        client.lastSnapshot = snapshot;
      }
      if (chunk === "" && now - client.lastWriteAt >= this.#heartbeatMs) chunk = ": keep-alive\n\n";
      if (chunk === "") continue;
      client.missed = 0;
      this.#write(client, chunk);
    }
  }

  #write(client: Client, chunk: string): void {
    client.lastWriteAt = Date.now();
    if (!client.response.write(chunk)) client.congested = true;
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
