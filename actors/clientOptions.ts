import type { CodecName } from "../src/codec/index.js";
import type { Logger, LogLevel } from "../src/logger.js";
import type { MetricsOptions } from "../src/metrics/metricsOptions.js";
import { checkCurveClient } from "../src/security/curveKeys.js";
import type { CurveSocketOptions } from "../src/sockets/socketPlan.js";
import type { TracingOptions } from "../src/tracing/hops.js";
import {
  checkEndpoint,
  checkInteger,
  checkName,
  checkOptionalEndpoint,
  checkOptionKeys,
  checkOptionsObject,
  optionKeys,
} from "../src/validate.js";

/** Options of a `Client` (pylm's `Client(server_name, db_address, push_address, sub_address, session)`). */
export interface ClientOptions {
  /** The name of the server the client talks to; checked against the server's cache on start. */
  serverName: string;
  /** The server's cache service (`CacheService`), used for discovery and get/set/delete. */
  dbAddress: string;
  /** Where to push messages: the server's PULL. @default the server's `pull_address` cache key */
  pushAddress?: string;
  /** Where results are published: the server's PUB. @default the server's `pub_address` cache key */
  subAddress?: string;
  /** Prefix of the keys this client stores in the cache. */
  session?: string;
  /** Must match the server's. @default "msgpack" */
  codec?: CodecName;
  /**
   * OpenTelemetry spans for each message sent and each result received (`send`, `receive`). A client
   * starts its calls' traces: `{ sampleRatio: 0.01 }` traces 1 % of them (drawn at random, each call
   * traced through every hop or not at all), and the other 99 % never ask the tracer for a span;
   * `sampleRun: 16` draws them in runs of 16 calls in a row, which costs a busy process much less.
   * `true` traces every call (what the SDK's own sampler then keeps is the SDK's decision). @default false
   */
  tracing?: TracingOptions;
  /**
   * Serve Prometheus metrics (`{ port, host }`) at `/metrics`: calls sent, answered, failed and timed out,
   * in flight, round-trip latency per function, and the process's own. @default off
   */
  metrics?: MetricsOptions;
  /** Messages a `job` may have in flight before it waits for results. @default 1000 */
  window?: number;
  /**
   * How long `eval` waits for its result, and `job` for its next one. A server that restarts within it
   * (on the same addresses) gets what it had not answered again. @default 30000
   */
  timeoutMs?: number;
  /** How long `start()` waits for the server's cache and PUB to answer. @default 10000 */
  connectTimeoutMs?: number;
  logLevel?: LogLevel;
  logger?: Logger;
  /** CURVE: this client's keypair and the server's public key. */
  curve?: CurveSocketOptions;
  /**
   * ZMQ_MAXMSGSIZE of the client's result socket, and the largest request it sends: a larger one is
   * refused before it is sent (`PALM_ERR_CODEC_OVERSIZED`), as the server would drop it unseen.
   * @default 67108864 (64 MiB, the servers' default)
   */
  maxMessageSize?: number;
}

/** The options a `Client` accepts. */
const CLIENT_KEYS = optionKeys<ClientOptions>()({
  serverName: true,
  dbAddress: true,
  pushAddress: true,
  subAddress: true,
  session: true,
  codec: true,
  tracing: true,
  metrics: true,
  window: true,
  timeoutMs: true,
  connectTimeoutMs: true,
  logLevel: true,
  logger: true,
  curve: true,
  maxMessageSize: true,
});

/** Checks a `Client`'s options, each error naming its option; the options as they were given. */
export function checkClientOptions(options: ClientOptions): ClientOptions {
  const checked = checkOptionsObject("options", options) as unknown as ClientOptions;
  checkOptionKeys("Client", checked, CLIENT_KEYS);
  checkName("serverName", checked.serverName);
  checkEndpoint("dbAddress", checked.dbAddress);
  checkOptionalEndpoint("pushAddress", checked.pushAddress);
  checkOptionalEndpoint("subAddress", checked.subAddress);
  if (checked.session !== undefined) checkName("session", checked.session);
  if (checked.window !== undefined) checkInteger("window", checked.window, 1);
  if (checked.timeoutMs !== undefined) checkInteger("timeoutMs", checked.timeoutMs, 1);
  if (checked.maxMessageSize !== undefined) checkInteger("maxMessageSize", checked.maxMessageSize, 1);
  checkCurveClient("curve", checked.curve);
  return checked;
}
