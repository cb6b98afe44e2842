import { optionKeys } from "../../src/validate.js";
import type { GatewayServerOptions } from "../gateway/gatewayServer.js";
import type { HubOptions } from "./hub.js";
import type {
  DistributingHooks,
  DistributingOptions,
  MasterOptions,
  ServerCommonOptions,
  ServerRuntimeOptions,
} from "./master.js";
import type { PipelineOptions } from "./pipeline.js";
import type { InProcessServerOptions, ServerOptions } from "./server.js";
import type { SinkOptions } from "./sink.js";

// One list per options type; `optionKeys` makes the compiler hold each list to its type.

const RUNTIME = optionKeys<ServerRuntimeOptions>()({
  codec: true,
  logLevel: true,
  logger: true,
  supervision: true,
  inspect: true,
  metrics: true,
  cache: true,
});

const COMMON = optionKeys<ServerCommonOptions>()({
  ...RUNTIME,
  name: true,
  dbAddress: true,
  pipelined: true,
  tracing: true,
  maxMessageSize: true,
  curve: true,
  slowConsumerMs: true,
  resultStreamAddress: true,
  pubNoDrop: true,
  now: true,
});

const HOOKS = optionKeys<DistributingHooks>()({ scatter: true, gather: true, handleStream: true });

const DISTRIBUTING = optionKeys<DistributingOptions>()({
  workerTimeoutMs: true,
  callTimeoutMs: true,
  maxAttempts: true,
  maxInFlight: true,
  redeliverAfterMs: true,
  stuckAfterMs: true,
  pushPrefetch: true,
  noWorkerTimeoutMs: true,
  workerDispatchAddress: true,
  highWater: true,
  highWaterMark: true,
});

const WORKER_SIDE = { workerPullAddress: true, workerPushAddress: true } as const;

/** The options a `Master` accepts. */
export const MASTER_KEYS = optionKeys<MasterOptions>()({
  ...COMMON,
  ...HOOKS,
  ...DISTRIBUTING,
  ...WORKER_SIDE,
  pullAddress: true,
  pubAddress: true,
});

/** The options a `Hub` accepts. */
export const HUB_KEYS = optionKeys<HubOptions>()({
  ...COMMON,
  ...HOOKS,
  ...DISTRIBUTING,
  ...WORKER_SIDE,
  subAddress: true,
  pubAddress: true,
  previous: true,
});

const { pipelined: _, ...IN_PROCESS_COMMON } = COMMON;
const IN_PROCESS = optionKeys<InProcessServerOptions>()({
  ...IN_PROCESS_COMMON,
  functions: true,
  handleStream: true,
  highWaterMark: true,
  callTimeoutMs: true,
});

/** The options a `Server` accepts. */
export const SERVER_KEYS = optionKeys<ServerOptions>()({
  ...IN_PROCESS,
  pullAddress: true,
  pubAddress: true,
  pipelined: true,
});

/** The options a `Pipeline` accepts. */
export const PIPELINE_KEYS = optionKeys<PipelineOptions>()({
  ...IN_PROCESS,
  subAddress: true,
  pubAddress: true,
  previous: true,
  toClient: true,
});

/** The options a `Sink` accepts. */
export const SINK_KEYS = optionKeys<SinkOptions>()({
  ...IN_PROCESS,
  subAddresses: true,
  pubAddress: true,
  previous: true,
  toClient: true,
});

/** The options a `GatewayServer` accepts. */
export const GATEWAY_KEYS = optionKeys<GatewayServerOptions>()({
  ...RUNTIME,
  ...DISTRIBUTING,
  ...WORKER_SIDE,
  listenAddress: true,
  timeoutMs: true,
  maxBodyBytes: true,
  maxPending: true,
  name: true,
  httpAddress: true,
  dbAddress: true,
  maxMessageSize: true,
  curve: true,
});

/** The addresses every ready-made server binds besides its own: the cache and the result streams. */
export const COMMON_BINDS = ["dbAddress", "resultStreamAddress"] as const;
