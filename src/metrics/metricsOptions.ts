import { invalidOption } from "../errors.js";
import { checkInteger, checkOptionsObject } from "../validate.js";

/** Where a server, worker or client serves its Prometheus metrics (`GET /metrics`). */
export interface MetricsOptions {
  /** TCP port; 0 picks a free one (read it back from `metricsUrl`). */
  port: number;
  /** @default "127.0.0.1" */
  host?: string;
}

const KEYS = new Set(["port", "host"]);

/** Checks the `metrics` option of a server, worker or client; throws naming the option at fault. */
export function checkMetricsOptions(value: unknown): Required<MetricsOptions> {
  const options = checkOptionsObject("metrics", value) as unknown as MetricsOptions;
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) throw invalidOption(`metrics.${key}`, `one of ${[...KEYS].join(", ")}`, key);
  }
  checkInteger("metrics.port", options.port, 0, 65535);
  if (options.host !== undefined && (typeof options.host !== "string" || options.host === ""))
    throw invalidOption("metrics.host", "a host name or address", options.host);
  return { port: options.port, host: options.host ?? "127.0.0.1" };
}
