import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { invalidOption } from "../errors.js";
import type { StateGraph } from "../viz/StateGraph.js";
import { toSvg } from "../viz/toSvg.js";
import type { InspectorServer } from "./createInspectorServer.js";
import type { EventStream } from "./EventStream.js";

const SECURITY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

/** Writes a whole answer with the inspector's headers (no caching, no sniffing, inline-only content). */
export type SendAnswer = (response: ServerResponse, status: number, type: string, body: string) => void;

/** What {@link servePages} serves. */
export interface PagesOptions {
  readonly port: number;
  readonly host: string;
  /** The live stream; `GET /events` joins it when `route` did not answer the path. */
  readonly stream: EventStream;
  /** Stops feeding the stream (called on close, or when listening fails). */
  readonly unsubscribe: () => void;
  /** The statecharts served at `GET /statechart/<partType>.svg`, read at each request. */
  readonly statecharts: () => Readonly<Record<string, StateGraph>>;
  /** Answers the other `GET` paths; false for none (404). */
  readonly route: (pathname: string, response: ServerResponse, send: SendAnswer) => boolean;
}

const send: SendAnswer = (response, status, type, body) => {
  response.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": SECURITY,
  });
  response.end(body);
};

/** Checks a page's `port` option (`0` picks a free one). */
export function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw invalidOption("port", "an integer from 0 to 65535", port);
}

/**
 * The HTTP side shared by a server's inspector and the cluster page: `GET` only, the statechart SVGs
 * (drawn once per graph), the event stream, listening and closing.
 *
 * @internal
 */
export async function servePages(options: PagesOptions): Promise<InspectorServer> {
  const { stream, unsubscribe, host } = options;
  // Keyed by graph object, so a statechart replaced in the source is drawn afresh.
  const svgCache = new WeakMap<StateGraph, Promise<string>>();
  const statechart = async (response: ServerResponse, pathname: string): Promise<void> => {
    const partType = decodeURIComponent(pathname.slice("/statechart/".length, -".svg".length));
    const statecharts = options.statecharts();
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
  };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== "GET") {
      response.setHeader("allow", "GET");
      send(response, 405, "text/plain; charset=utf-8", "Method Not Allowed\n");
      return;
    }
    const { pathname } = new URL(request.url ?? "/", "http://inspector.invalid");
    if (options.route(pathname, response, send)) return;
    if (pathname === "/events") stream.add(response);
    else if (pathname.startsWith("/statechart/") && pathname.endsWith(".svg"))
      await statechart(response, pathname);
    else send(response, 404, "text/plain; charset=utf-8", "Not Found\n");
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
