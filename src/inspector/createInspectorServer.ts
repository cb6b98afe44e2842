import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { invalidOption } from "../errors.js";
import type { StateGraph } from "../viz/StateGraph.js";
import { toSvg } from "../viz/toSvg.js";
import { EventStream } from "./EventStream.js";
import { renderInspectorPage } from "./inspectorPage.js";
import type { InspectorLiveSnapshot, InspectorSource } from "./types.js";

/** Options of {@link createInspectorServer}. */
export interface InspectorServerOptions {
  /** TCP port to listen on; `0` picks a free one (read it back from `url`/`port`). */
  readonly port: number;
  /** Interface to listen on; keep the loopback default unless the page must be reachable. @default "127.0.0.1" */
  readonly host?: string;
  /** Where snapshots and events come from (see `InspectorStore`). */
  readonly source: InspectorSource;
  /** Milliseconds between live updates sent to each page (at most one write each). @default 200 */
  readonly updateIntervalMs?: number;
  /** Told about failures that have no request to answer (a snapshot that threw during a push). @default process.emitWarning */
  readonly onError?: (error: unknown) => void;
  /** Told how many pages follow the live stream whenever one connects or leaves. */
  readonly onPages?: (pages: number) => void;
}

/** A running inspector. */
export interface InspectorServer {
  /** The page's address, such as `http://127.0.0.1:43117/`. */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  /** How many pages follow the live stream now. */
  readonly pages: number;
  /** Stops listening and ends every open page connection; idempotent. */
  close(): Promise<void>;
}

function validate(options: InspectorServerOptions): void {
  const { port, host, source, updateIntervalMs } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw invalidOption("port", "an integer from 0 to 65535", port);
  if (host !== undefined && (typeof host !== "string" || host === ""))
    throw invalidOption("host", "a host name or address", host);
  if (typeof source?.snapshot !== "function" || typeof source.subscribe !== "function") {
    throw invalidOption("source", "an object with snapshot() and subscribe()", source);
  }
  if (updateIntervalMs !== undefined && !(Number.isFinite(updateIntervalMs) && updateIntervalMs >= 50)) {
    throw invalidOption("updateIntervalMs", "a number of milliseconds of at least 50", updateIntervalMs);
  }
}

/**
 * Serves palm's live inspector over plain `node:http`: `GET /` (the page, self-contained),
 * `GET /snapshot.json`, `GET /events` (server-sent events: every inspector event plus coalesced
 * snapshots, at most ~5 writes a second per page) and `GET /statechart/<partType>.svg`.
 *
 * @example
 * const inspector = await createInspectorServer({ port: 0, source: store });
 * console.log(`inspector at ${inspector.url}`);
 * await inspector.close();
 */
export async function createInspectorServer(options: InspectorServerOptions): Promise<InspectorServer> {
  validate(options);
  const { source, host = "127.0.0.1" } = options;
  const onError =
    options.onError ??
    ((error: unknown) => process.emitWarning(error instanceof Error ? error : String(error)));
  const liveJson = (): string => {
    const { statecharts: _statecharts, ...live } = source.snapshot();
    return JSON.stringify(live satisfies InspectorLiveSnapshot);
  };
  const stream = new EventStream({
    snapshotJson: liveJson,
    intervalMs: options.updateIntervalMs,
    onError,
    ...(options.onPages ? { onClients: options.onPages } : {}),
  });
  const unsubscribe = source.subscribe((event) => stream.push(event));
  // Keyed by graph object, so a statechart replaced in the source is drawn afresh.
  const svgCache = new WeakMap<StateGraph, Promise<string>>();

  const send = (response: ServerResponse, status: number, type: string, body: string): void => {
    response.writeHead(status, {
      "content-type": type,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "content-security-policy":
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
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
      send(response, 200, "text/html; charset=utf-8", renderInspectorPage(source.snapshot().server));
    } else if (pathname === "/snapshot.json") {
      send(response, 200, "application/json; charset=utf-8", JSON.stringify(source.snapshot()));
    } else if (pathname === "/events") {
      stream.add(response);
    } else if (pathname.startsWith("/statechart/") && pathname.endsWith(".svg")) {
      const partType = decodeURIComponent(pathname.slice("/statechart/".length, -".svg".length));
      const { statecharts } = source.snapshot();
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
    server.listen(options.port, host, () => {
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
        // Pages keep idle keep-alive sockets open; without this `close` would wait for them.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
