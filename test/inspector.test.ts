import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setup } from "xstate";
import { isPalmError } from "../src/errors.js";
import {
  createInspectorServer,
  type InspectorEvent,
  type InspectorPart,
  type InspectorServer,
  type InspectorSnapshot,
  type InspectorSource,
} from "../src/inspector/index.js";
import { machineToGraph } from "../src/viz/index.js";

const pushMachine = setup({}).createMachine({
  id: "push",
  initial: "binding",
  states: {
    binding: { on: { BOUND: "running" } },
    running: {
      initial: "ready",
      states: { ready: { on: { SEND: "sending" } }, sending: { on: { SENT: "ready" } } },
    },
    failed: { type: "final" },
  },
});

/** A hand-written source: the test mutates `parts` and calls `emit`. */
function fakeSource(): InspectorSource & {
  parts: InspectorPart[];
  emit(event: InspectorEvent): void;
  listeners: number;
} {
  const listeners = new Set<(event: InspectorEvent) => void>();
  const source = {
    parts: [
      {
        name: "pull",
        kind: "inbound",
        partType: "PushLike",
        state: "running.ready",
        restarts: 0,
        messagesIn: 0,
        messagesOut: 0,
        errors: 0,
      },
      {
        name: "push",
        kind: "outbound",
        partType: "PushLike",
        state: "binding",
        restarts: 0,
        messagesIn: 0,
        messagesOut: 0,
        errors: 0,
      },
    ] as InspectorPart[],
    snapshot: (): InspectorSnapshot => ({
      server: "hub",
      parts: source.parts.map((part) => ({ ...part })),
      routes: [{ from: "pull", to: "push", block: false }],
      statecharts: { PushLike: machineToGraph(pushMachine) },
    }),
    subscribe(listener: (event: InspectorEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: (event: InspectorEvent) => {
      for (const listener of listeners) listener(event);
    },
    get listeners() {
      return listeners.size;
    },
  };
  return source;
}

/** Reads a server-sent event stream message by message. */
class SseReader {
  readonly messages: { event: string; data: string }[] = [];
  readonly #controller = new AbortController();
  #buffer = "";
  #ended = false;
  #wake: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(url: string) {
    this.done = (async () => {
      const response = await fetch(url, { signal: this.#controller.signal });
      assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const decoder = new TextDecoder();
      try {
        const reader = response.body?.getReader();
        for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
          const chunk = read.value;
          this.#buffer += decoder.decode(chunk, { stream: true });
          for (let end = this.#buffer.indexOf("\n\n"); end >= 0; end = this.#buffer.indexOf("\n\n")) {
            const block = this.#buffer.slice(0, end);
            this.#buffer = this.#buffer.slice(end + 2);
            const fields = block.split("\n").filter((line) => !line.startsWith(":"));
            const data = fields.filter((line) => line.startsWith("data: ")).map((line) => line.slice(6));
            const event = fields.find((line) => line.startsWith("event: "))?.slice(7) ?? "message";
            if (data.length > 0) this.messages.push({ event, data: data.join("\n") });
          }
          this.#wake?.();
        }
      } catch (error) {
        if (!this.#controller.signal.aborted) throw error;
      } finally {
        this.#ended = true;
        this.#wake?.();
      }
    })();
  }

  /** Waits until a message matches, or fails after `timeoutMs`. */
  async waitFor(
    match: (message: { event: string; data: string }) => boolean,
    timeoutMs = 3000,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found.data;
      if (this.#ended || Date.now() > deadline) throw new Error(`no matching SSE message in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  get ended(): boolean {
    return this.#ended;
  }

  close(): void {
    this.#controller.abort();
  }
}

describe("createInspectorServer", () => {
  let source: ReturnType<typeof fakeSource>;
  let inspector: InspectorServer;
  beforeEach(async () => {
    source = fakeSource();
    inspector = await createInspectorServer({ port: 0, source });
  });
  afterEach(async () => {
    await inspector.close();
  });

  it("binds the port it was given (0: any) on loopback and reports its url", () => {
    assert.ok(inspector.port > 0);
    assert.equal(inspector.url, `http://127.0.0.1:${inspector.port}/`);
  });

  it("rejects options it cannot use, naming the option and the value", async () => {
    await assert.rejects(createInspectorServer({ port: 70_000, source }), (error: unknown) => {
      assert.ok(isPalmError(error) && error.code === "PALM_ERR_OPTION_INVALID", "a PalmError");
      assert.equal(error.message, "Expected `port` to be an integer from 0 to 65535, got `70000` (number)");
      return true;
    });
    const noSource = { port: 0, source: {} as InspectorSource };
    await assert.rejects(createInspectorServer(noSource), /Expected `source` to be an object with snapshot/);
  });

  it("serves /snapshot.json as the source's current snapshot", async () => {
    const first = (await (await fetch(`${inspector.url}snapshot.json`)).json()) as InspectorSnapshot;
    assert.deepEqual(first, JSON.parse(JSON.stringify(source.snapshot())));
    const pull = source.parts[0] as { messagesIn: number };
    pull.messagesIn = 41;
    const second = (await (await fetch(`${inspector.url}snapshot.json`)).json()) as InspectorSnapshot;
    assert.equal(second.parts[0]?.messagesIn, 41);
  });

  it("serves a self-contained page: inline script and style, nothing fetched from elsewhere", async () => {
    const response = await fetch(inspector.url);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(
      response.headers.get("content-security-policy") ?? "",
      /default-src 'none'.*connect-src 'self'/,
    );
    const html = await response.text();
    assert.match(html, /<script>[\s\S]*new EventSource\("events"\)[\s\S]*<\/script>/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
    assert.doesNotMatch(html, /@import|url\(http/);
  });

  it("serves each part type's statechart as SVG with data-state hooks, drawn once", async () => {
    const response = await fetch(`${inspector.url}statechart/PushLike.svg`);
    assert.equal(response.headers.get("content-type"), "image/svg+xml; charset=utf-8");
    const svg = await response.text();
    for (const path of ["binding", "running", "running.ready", "running.sending", "failed"]) {
      assert.ok(svg.includes(`data-state="${path}"`), `the SVG marks ${path}`);
    }
    assert.equal(await (await fetch(`${inspector.url}statechart/PushLike.svg`)).text(), svg);
    assert.equal((await fetch(`${inspector.url}statechart/Nope.svg`)).status, 404);
  });

  it("answers 404 for unknown paths and 405 for other methods", async () => {
    assert.equal((await fetch(`${inspector.url}nope`)).status, 404);
    const post = await fetch(`${inspector.url}snapshot.json`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
  });

  it("streams every event and coalesces snapshots to at most ~5 a second", async () => {
    const stream = new SseReader(`${inspector.url}events`);
    const initial = JSON.parse(await stream.waitFor((m) => m.event === "snapshot")) as InspectorSnapshot;
    assert.equal(initial.server, "hub");
    assert.equal("statecharts" in initial, false, "live snapshots leave the statecharts to the SVG route");

    const pull = source.parts[0] as { messagesIn: number };
    const started = Date.now();
    for (let i = 0; i < 100; i++)
      source.emit({ type: "part.state", part: "pull", at: started, detail: `step ${i}` });
    while (Date.now() - started < 1000) {
      pull.messagesIn++;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const final = pull.messagesIn;
    await stream.waitFor((m) => m.event === "snapshot" && m.data.includes(`"messagesIn":${final},`));
    const events = stream.messages
      .filter((m) => m.event === "message")
      .map((m) => JSON.parse(m.data) as InspectorEvent);
    assert.deepEqual(
      events.map((event) => event.detail),
      Array.from({ length: 100 }, (_, i) => `step ${i}`),
    );
    const snapshots = stream.messages.filter((m) => m.event === "snapshot").length;
    assert.ok(final > 200, `the counter changed ${final} times`);
    assert.ok(snapshots <= 9, `${snapshots} snapshots for ${final} changes in ~1.2 s`);
    stream.close();
    await stream.done;
  });

  it("sends nothing while nothing changes", async () => {
    const stream = new SseReader(`${inspector.url}events`);
    await stream.waitFor((m) => m.event === "snapshot");
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(stream.messages.length, 1);
    stream.close();
    await stream.done;
  });

  it("close() ends open event streams, unsubscribes and is idempotent", async () => {
    const streams = [new SseReader(`${inspector.url}events`), new SseReader(`${inspector.url}events`)];
    await Promise.all(streams.map((stream) => stream.waitFor((m) => m.event === "snapshot")));
    assert.equal(source.listeners, 1);
    await Promise.all([inspector.close(), inspector.close()]);
    await Promise.all(streams.map((stream) => stream.done));
    assert.ok(streams.every((stream) => stream.ended));
    assert.equal(source.listeners, 0);
    await assert.rejects(fetch(inspector.url));
  });
});
