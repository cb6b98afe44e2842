import type { ClusterStore } from "./ClusterStore.js";
import { renderClusterPage } from "./clusterPage.js";
import type { InspectorServer } from "./createInspectorServer.js";
import { EventStream } from "./EventStream.js";
import { checkPort, servePages } from "./servePages.js";
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
  checkPort(wanted);
  const liveJson = () => JSON.stringify(source.snapshot());
  const stream = new EventStream({
    snapshotJson: liveJson,
    intervalMs: options.updateIntervalMs ?? 100,
    // A busy cluster sends many hops; a page keeps the newest, so the stream may drop the oldest.
    maxPendingEvents: 2000,
    onError: (error) => process.emitWarning(error instanceof Error ? error : String(error)),
  });
  const unsubscribe = source.subscribe((event) => stream.push(event));
  const traceJson = trace
    ? JSON.stringify(trace.filter((record) => record.type !== "statecharts"))
    : undefined;
  return servePages({
    port: wanted,
    host,
    stream,
    unsubscribe,
    statecharts: () => source.statecharts(),
    route: (pathname, response, send) => {
      if (pathname === "/") send(response, 200, "text/html; charset=utf-8", renderClusterPage(source.mode));
      else if (pathname === "/snapshot.json")
        send(response, 200, "application/json; charset=utf-8", liveJson());
      else if (pathname === "/trace.json" && traceJson !== undefined)
        send(response, 200, "application/json; charset=utf-8", traceJson);
      // A replay has no live stream to join.
      else if (pathname === "/events" && source.mode !== "live")
        send(response, 404, "text/plain; charset=utf-8", "Not Found\n");
      else return false;
      return true;
    },
  });
}
