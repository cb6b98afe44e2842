import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, type Metric, Registry } from "prom-client";
import type { CollectedMetric } from "./collected.js";
import type { MetricsOptions } from "./metricsOptions.js";

/** The process's own metrics (CPU, memory, event loop, GC), shared by every endpoint of the process. */
let processRegistry: Registry | undefined;

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // Gauges whose `_total` names break Prometheus' naming rules (`promtool check metrics`); their
    // per-type counterparts (`nodejs_active_handles`…) stay.
    for (const name of [
      "nodejs_active_handles_total",
      "nodejs_active_requests_total",
      "nodejs_active_resources_total",
    ])
      processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

/**
 * One Prometheus endpoint: the metrics of a server, worker or client plus the process's own, served in
 * the text format at `GET /metrics`. Every series is read when Prometheus scrapes, except latency
 * histograms and rare events (restarts, escalations), which are counted as they happen.
 */
export class PalmMetrics {
  /** The endpoint's own metrics (the process's are added when scraped). */
  readonly registry = new Registry();
  readonly #options: Required<MetricsOptions>;
  #http: Server | undefined;
  #url: string | undefined;

  constructor(options: Required<MetricsOptions>) {
    this.#options = options;
  }

  /**
   * Adds a metric (a prom-client one, or one read at scrape time); to add your own, register it in
   * `registry`.
   * @internal
   */
  add(metric: Metric | CollectedMetric): void {
    this.registry.registerMetric(metric as unknown as Metric);
  }

  /** The URL of `/metrics` once listening. */
  get url(): string | undefined {
    return this.#url;
  }

  /** Everything the endpoint serves, in Prometheus' text format. */
  text(): Promise<string> {
    return Registry.merge([this.registry, processMetrics()]).metrics();
  }

  /** Starts serving `/metrics`; resolves with its URL. */
  async listen(): Promise<string> {
    const http = createServer((request, response) => {
      if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
        response.writeHead(404, { "content-type": "text/plain" }).end("palm serves /metrics\n");
        return;
      }
      this.text().then(
        (body) => response.writeHead(200, { "content-type": this.registry.contentType }).end(body),
        (error: unknown) =>
          response.writeHead(500, { "content-type": "text/plain" }).end(`${String(error)}\n`),
      );
    });
    this.#http = http;
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(this.#options.port, this.#options.host, () => {
        http.off("error", reject);
        resolve();
      });
    });
    const { port } = http.address() as AddressInfo;
    const host = this.#options.host.includes(":") ? `[${this.#options.host}]` : this.#options.host;
    this.#url = `http://${host}:${port}/metrics`;
    return this.#url;
  }

  /** Stops serving and closes every open connection (a scraper keeps its connection alive). */
  async close(): Promise<void> {
    const http = this.#http;
    this.#http = undefined;
    if (!http) return;
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    await closed;
  }
}
