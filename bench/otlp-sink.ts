/**
 * A stand-in for an OpenTelemetry Collector in `palm bench --tracing`: an HTTP server on loopback that
 * takes what the SDK's OTLP/HTTP exporter posts to `/v1/traces` (JSON), answers 200 as a collector does,
 * and counts the spans by hop (`send`, `route`, `execute`, `publish`, `receive`: the first word of a palm
 * span's name), so a run shows that client, master and workers exported real sampled spans. It runs in the bench runner, whose CPU the figures do not count: as a collector's would.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A running sink. */
export interface OtlpSink {
  /** Where the exporter posts: `http://127.0.0.1:<port>/v1/traces`. */
  readonly url: string;
  /** Spans received so far, by hop (the first word of the span's name). */
  spans(): Record<string, number>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

interface OtlpTraces {
  readonly resourceSpans?: readonly {
    readonly scopeSpans?: readonly { readonly spans?: readonly { readonly name?: string }[] }[];
  }[];
}

/** Adds the spans of one OTLP/JSON export request to `counts`, by hop. */
export function countSpans(body: string, counts: Record<string, number>): void {
  const request = JSON.parse(body) as OtlpTraces;
  for (const resource of request.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        const hop = (span.name ?? "").split(" ")[0] || "unnamed";
        counts[hop] = (counts[hop] ?? 0) + 1;
      }
    }
  }
}

/** Starts a sink on a free loopback port. */
export async function startOtlpSink(): Promise<OtlpSink> {
  const counts: Record<string, number> = {};
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      try {
        countSpans(Buffer.concat(chunks).toString("utf8"), counts);
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
    spans: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
