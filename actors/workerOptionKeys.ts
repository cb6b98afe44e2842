import { optionKeys } from "../src/validate.js";
import type { WorkerOptions } from "./worker.js";

/** The options a `Worker` (and a `MuxWorker`) accepts. */
export const WORKER_KEYS = optionKeys<WorkerOptions>()({
  name: true,
  dbAddress: true,
  pushAddress: true,
  pullAddress: true,
  prefetch: true,
  timeouts: true,
  functions: true,
  codec: true,
  logLevel: true,
  logger: true,
  supervision: true,
  curve: true,
  connectTimeoutMs: true,
  heartbeatIntervalMs: true,
  maxMessageSize: true,
  inspect: true,
  metrics: true,
  tracing: true,
});
