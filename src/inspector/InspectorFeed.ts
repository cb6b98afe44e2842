import type { InspectorEvent, InspectorLiveSnapshot, InspectorSnapshot } from "./types.js";

/** What an {@link InspectorFeed} reports. */
export interface InspectorFeedHandlers {
  /** The full snapshot (with statecharts), read at each (re)connection. */
  readonly onSnapshot: (snapshot: InspectorSnapshot) => void;
  /** A live snapshot from the stream. */
  readonly onLive: (snapshot: InspectorLiveSnapshot) => void;
  /** An event from the stream. */
  readonly onEvent: (event: InspectorEvent) => void;
  /** The inspector became reachable, or stopped being so. */
  readonly onConnected: (connected: boolean) => void;
}

/**
 * Follows one process's inspector from Node: reads `/snapshot.json`, then `/events` (server-sent
 * events), and reconnects every `retryMs` while the process is away. What `palm inspect URL…` joins.
 *
 * @internal
 */
export class InspectorFeed {
  readonly #url: string;
  readonly #handlers: InspectorFeedHandlers;
  readonly #retryMs: number;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;

  constructor(url: string, handlers: InspectorFeedHandlers, retryMs = 1000) {
    this.#url = url.endsWith("/") ? url : `${url}/`;
    this.#handlers = handlers;
    this.#retryMs = retryMs;
  }

  /** Reads the first snapshot (rejects if the inspector cannot be reached), then follows in the background. */
  async start(): Promise<InspectorSnapshot> {
    const first = await this.#readSnapshot();
    this.#running = this.#follow();
    return first;
  }

  /** Stops following; idempotent. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #readSnapshot(): Promise<InspectorSnapshot> {
    const response = await fetch(`${this.#url}snapshot.json`, { signal: this.#abort.signal });
    if (!response.ok) throw new Error(`${this.#url}snapshot.json answered ${response.status}`);
    const snapshot = (await response.json()) as InspectorSnapshot;
    this.#handlers.onSnapshot(snapshot);
    return snapshot;
  }

  async #follow(): Promise<void> {
    let first = true;
    while (!this.#abort.signal.aborted) {
      try {
        if (!first) await this.#readSnapshot();
        first = false;
        await this.#stream();
      } catch {
        // the process is away (restarting, or gone): say so and try again
      }
      if (this.#abort.signal.aborted) break;
      this.#handlers.onConnected(false);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#retryMs);
        this.#abort.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async #stream(): Promise<void> {
    const response = await fetch(`${this.#url}events`, { signal: this.#abort.signal });
    if (!response.ok || !response.body) throw new Error(`${this.#url}events answered ${response.status}`);
    this.#handlers.onConnected(true);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        this.#dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
      }
    }
  }

  #dispatch(block: string): void {
    let type = "message";
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) type = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    if (data === "") return;
    if (type === "snapshot") this.#handlers.onLive(JSON.parse(data) as InspectorLiveSnapshot);
    else if (type === "message") this.#handlers.onEvent(JSON.parse(data) as InspectorEvent);
    else if (type === "gap") {
      const { missed } = JSON.parse(data) as { missed: number };
      this.#handlers.onEvent({
        type: "messages.sampled",
        at: Date.now(),
        detail: `${missed} events not relayed`,
      });
    }
  }
}
