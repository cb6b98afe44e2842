import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { invalidOption } from "../errors.js";
import type { StateGraph } from "../viz/StateGraph.js";
import { toSvg } from "../viz/toSvg.js";
import type { ClusterStore } from "./ClusterStore.js";
import { renderClusterPage } from "./clusterPage.js";
import type { InspectorServer } from "./createInspectorServer.js";
import { EventStream } from "./EventStream.js";
import type { TraceRecord } from "./TraceRecorder.js";

/** Options of {@link createClusterServer}. */
export interface ClusterServerOptions {
  /** TCP port to listen on; `0` picks a free one. */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** The processes to show (see {@link ClusterStore}). */
  readonly source: ClusterStore;
  /** In replay mode: the merged trace the page plays back (served at `/trace.json`). */
  readonly trace?: readonly TraceRecord[];
  /** Milliseconds between live updates sent to each page. @default 100 */
  readonly updateIntervalMs?: number;
}

const SECURITY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

/**
 * Serves palm's cluster page over plain `node:http`: `GET /` (the page, self-contained), `GET /snapshot.json`
 * (every process), `GET /events` (server-sent events, as a single inspector's, each event naming its
 * process), `GET /statechart/<partType>.svg` and, when replaying, `GET /trace.json`.
 *
 * @example
 * const store = new ClusterStore("live");
 * const page = await createClusterServer({ port: 0, source: store });
 */
export async function createClusterServer(options: ClusterServerOptions): Promise<InspectorServer> {
  const { port: wanted, host = "127.0.0.1", source, trace } = options;
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65_535)
    throw invalidOption("port", "an integer from 0 to 65535", wanted);
  const liveJson = () => JSON.stringify(source.snapshot());
  const stream = new EventStream({
    snapshotJson: liveJson,
    intervalMs: options.updateIntervalMs ?? 100,
    // A busy cluster sends many hops; a page keeps the newest, so the stream may drop the oldest.
    maxPendingEvents: 2000,
    onError: (error) => process.emitWarning(error instanceof Error ? error : String(error)),
  });
  const unsubscribe = source.subscribe((event) => stream.push(event));
  const svgCache = new WeakMap<StateGraph, Promise<string>>();
  const traceJson = trace
    ? JSON.stringify(trace.filter((record) => record.type !== "statecharts"))
    : undefined;

  const send = (response: ServerResponse, status: number, type: string, body: string): void => {
    response.writeHead(status, {
      "content-type": type,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "content-security-policy": SECURITY,
    });
    response.end(body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== "GET") {
      response.setHeader("allow", "GET");
      send(response, 405, "text/plain; charset=utf-8", "Method Not Allowed\n");
      return;
    }
    const { pathname } = new URL(request.url ?? "/", "http://inspector.invalid");
    if (pathname === "/") {
      send(response, 200, "text/html; charset=utf-8", renderClusterPage(source.mode));
    } else if (pathname === "/snapshot.json") {
      send(response, 200, "application/json; charset=utf-8", liveJson());
    } else if (pathname === "/events" && source.mode === "live") {
      stream.add(response);
    } else if (pathname === "/trace.json" && traceJson !== undefined) {
      send(response, 200, "application/json; charset=utf-8", traceJson);
    } else if (pathname.startsWith("/statechart/") && pathname.endsWith(".svg")) {
      const partType = decodeURIComponent(pathname.slice("/statechart/".length, -".svg".length));
      const statecharts = source.statecharts();
      const graph = Object.hasOwn(statecharts, partType) ? statecharts[partType] : undefined;
      if (!graph) {
        send(response, 404, "text/plain; charset=utf-8", `No statechart for part type ${partType}\n`);
        return;
      }
      let svg = svgCache.get(graph);
      if (!svg) {
        svg = toSvg(graph);
        svgCache.set(graph, svg);
        svg.catch(() => svgCache.delete(graph));
      }
      send(response, 200, "image/svg+xml; charset=utf-8", await svg);
    } else {
      send(response, 404, "text/plain; charset=utf-8", "Not Found\n");
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else send(response, 500, "text/plain; charset=utf-8", `Inspector error: ${String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(wanted, host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error: unknown) => {
    unsubscribe();
    stream.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    get pages() {
      return stream.size;
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        unsubscribe();
        stream.close();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
