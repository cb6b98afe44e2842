/**
 * A stand-in for an OpenTelemetry Collector in `palm bench --tracing`: an HTTP server on loopback that
 * takes what the SDK's OTLP/HTTP exporter posts to `/v1/traces` (JSON), answers 200 as a collector does,
 * and counts the spans by hop (`send`, `route`, `execute`, `publish`, `receive`: the first word of a palm
 * span's name), so a run shows that client, master and workers exported real sampled spans; with a window
 * set, only the spans of the measured job count. It runs in the bench runner, whose CPU the figures do not
 * count: as a collector's would.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A running sink. */
export interface OtlpSink {
  /** Where the exporter posts: `http://127.0.0.1:<port>/v1/traces`. */
  readonly url: string;
  /** Spans received so far that started inside the window (all of them until one is set), by hop. */
  spans(): Record<string, number>;
  /**
   * Counts only the spans that started inside `window`: the measured job's, not those of the warm-up
   * before it or of the round trips after it. It applies to the spans already received too.
   */
  countWindow(window: SpanWindow): void;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Which spans count, by when they started (epoch ms): from `fromMs` on, and before `toMs` if given. */
export interface SpanWindow {
  readonly fromMs: number;
  readonly toMs?: number;
}

/** A span as the sink keeps it: its hop (the first word of its name) and when it started, epoch ms. */
export interface SpanStart {
  readonly hop: string;
  readonly startMs: number;
}

interface OtlpTraces {
  readonly resourceSpans?: readonly {
    readonly scopeSpans?: readonly {
      readonly spans?: readonly {
        readonly name?: string;
        /** Nanoseconds since the epoch: a decimal string in OTLP/JSON (a 64-bit integer), or a number. */
        readonly startTimeUnixNano?: string | number;
      }[];
    }[];
  }[];
}

/**
 * Epoch nanoseconds as milliseconds, exact to the nanosecond when given as a decimal string: the whole
 * number (near 1.8e18) is past what a double holds exactly, and a span started on a millisecond must not
 * land a hair before it (NaN for anything else).
 */
function nanosToMs(nanos: string | number | undefined): number {
  if (typeof nanos === "string" && /^\d{7,}$/.test(nanos)) {
    return Number(nanos.slice(0, -6)) + Number(nanos.slice(-6)) / 1e6;
  }
  return Number(nanos ?? Number.NaN) / 1e6;
}

/** The spans of one OTLP/JSON export request (throws on a body that is not JSON). */
export function spanStarts(body: string): SpanStart[] {
  const request = JSON.parse(body) as OtlpTraces;
  const out: SpanStart[] = [];
  for (const resource of request.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        const hop = (span.name ?? "").split(" ")[0] || "unnamed";
        out.push({ hop, startMs: nanosToMs(span.startTimeUnixNano) });
      }
    }
  }
  return out;
}

/** `spans` by hop, only those that started inside `window` when one is given (a span with no start time never does). */
export function countSpans(spans: readonly SpanStart[], window?: SpanWindow): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { hop, startMs } of spans) {
    if (window && !(startMs >= window.fromMs && (window.toMs === undefined || startMs < window.toMs))) {
      continue;
    }
    counts[hop] = (counts[hop] ?? 0) + 1;
  }
  return counts;
}

/** Starts a sink on a free loopback port. */
export async function startOtlpSink(): Promise<OtlpSink> {
  const received: SpanStart[] = [];
  let window: SpanWindow | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      try {
        for (const span of spanStarts(Buffer.concat(chunks).toString("utf8"))) received.push(span);
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch {
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans: () => countSpans(received, window),
    countWindow: (next) => {
      window = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
