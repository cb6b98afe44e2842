import { invalidOption } from "../errors.js";
import { EventStream } from "./EventStream.js";
import { renderInspectorPage } from "./inspectorPage.js";
import { checkPort, servePages } from "./servePages.js";
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
  checkPort(port);
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
  return servePages({
    port: options.port,
    host,
    stream,
    unsubscribe,
    statecharts: () => source.snapshot().statecharts,
    route: (pathname, response, send) => {
      if (pathname === "/")
        send(response, 200, "text/html; charset=utf-8", renderInspectorPage(source.snapshot().server));
      else if (pathname === "/snapshot.json")
        send(response, 200, "application/json; charset=utf-8", JSON.stringify(source.snapshot()));
      else return false;
      return true;
    },
  });
}
