import type { CodecName } from "./codec/index.js";
import { invalidOption } from "./errors.js";
import type { InspectOptions } from "./inspection.js";
import { checkInspectOptions } from "./inspector/inspectOptions.js";
import { isLogLevel, type Logger, type LogLevel } from "./logger.js";
import type { MetricsOptions } from "./metrics/metricsOptions.js";
import { type CurveServerOptions, checkCurveServer } from "./security/curveKeys.js";
import type { SupervisionOptions } from "./supervisionOptions.js";
import { checkInteger, checkName, checkOptionKeys, checkOptionsObject, optionKeys } from "./validate.js";

/** Options of a server built with `ServerTemplate` (and of every ready-made server). */
export interface ServerTemplateOptions {
  /** The server's name: clients address its functions as `name.fn`. */
  name: string;
  /** Wire codec of every part. @default "msgpack" */
  codec?: CodecName;
  /** Log level of the server's logger. @default "info" (or `PALM_LOG_LEVEL`) */
  logLevel?: LogLevel;
  /** A pino logger to log through instead of a new one. */
  logger?: Logger;
  /** How parts are restarted. */
  supervision?: SupervisionOptions;
  /**
   * ZMQ_MAXMSGSIZE of every part's socket: a peer sending a larger message is disconnected by ZeroMQ before
   * palm sees it. A part's own `maxMessageSize` option wins. @default 67108864 (64 MiB)
   */
  maxMessageSize?: number;
  /**
   * CURVE security: the server's keypair (used by every tcp part it binds) and the public keys of the
   * clients and workers it lets in (checked by a ZAP handler). @default undefined (plain text)
   */
  curve?: CurveServerOptions;
  /** @internal Clock for supervision decisions (tests). */
  now?: () => number;
  /** @internal Randomness for backoff jitter (tests). */
  random?: () => number;
  /** Serve a live inspector page for this server (HTTP, bound to 127.0.0.1 unless `host` says otherwise). */
  inspect?: InspectOptions;
  /** Serve Prometheus metrics at `http://host:port/metrics` (bound to 127.0.0.1 unless `host` says otherwise). */
  metrics?: MetricsOptions;
}

/** The options a `ServerTemplate` accepts. */
const TEMPLATE_KEYS = optionKeys<ServerTemplateOptions>()({
  name: true,
  codec: true,
  logLevel: true,
  logger: true,
  supervision: true,
  maxMessageSize: true,
  curve: true,
  now: true,
  random: true,
  inspect: true,
  metrics: true,
});

/**
 * Checks a server's options, each error naming the option; returns them with `name`, `curve` and
 * `inspect` in their checked form. @internal
 */
export function checkServerOptions(options: ServerTemplateOptions): ServerTemplateOptions {
  const checked = checkOptionsObject("options", options) as unknown as ServerTemplateOptions;
  checkOptionKeys("ServerTemplate", checked, TEMPLATE_KEYS);
  const name = checkName("name", checked.name);
  if (checked.logLevel !== undefined && !isLogLevel(checked.logLevel)) {
    throw invalidOption(
      "logLevel",
      "a pino level (fatal, error, warn, info, debug, trace, silent)",
      checked.logLevel,
    );
  }
  const inspect = checked.inspect === undefined ? undefined : checkInspectOptions(checked.inspect);
  if (checked.maxMessageSize !== undefined) checkInteger("maxMessageSize", checked.maxMessageSize, 1);
  const curve = checkCurveServer("curve", checked.curve);
  return { ...checked, name, inspect, curve };
}
