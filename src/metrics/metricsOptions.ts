import { checkListenOption } from "../validate.js";

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
  const options = checkListenOption<MetricsOptions>("metrics", value, KEYS);
  return { port: options.port, host: options.host ?? "127.0.0.1" };
}
