import type { CodecName } from "../../src/codec/index.js";
import type { InspectOptions } from "../../src/inspection.js";
import type { Logger, LogLevel } from "../../src/logger.js";
import type { CurveServerOptions } from "../../src/security/curveKeys.js";
import { ServerTemplate } from "../../src/serverTemplate.js";
import type { SupervisionOptions } from "../../src/supervisionOptions.js";
import { checkEndpoint, checkHttpUrl, checkOptionsObject } from "../../src/validate.js";
import { PalmServer } from "../servers/palmServer.js";
import { CacheService } from "../services/cacheService.js";
import { WorkerPullService } from "../services/workerPullService.js";
import { WorkerPushService } from "../services/workerPushService.js";
import { GatewayDealer } from "./gatewayDealer.js";
import { GatewayRouter } from "./gatewayRouter.js";
import { HttpGateway, type HttpGatewayOptions } from "./httpGateway.js";

/** Options of a `GatewayServer`: a master whose clients speak HTTP. */
export interface GatewayServerOptions extends HttpGatewayOptions {
  /** The server's name: `/fn` calls `name.fn`. */
  name: string;
  /** Where HTTP clients call, e.g. `http://127.0.0.1:8888`. */
  httpAddress: string;
  /** Where workers push results (PULL, bound). */
  workerPullAddress: string;
  /** Where workers pull work (PUSH, bound). */
  workerPushAddress: string;
  /** The cache service's address, where workers learn the two above (pylm's `db_address`). */
  dbAddress: string;
  /** Must match the workers'. @default "msgpack" */
  codec?: CodecName;
  /** @default "info" */
  logLevel?: LogLevel;
  logger?: Logger;
  supervision?: SupervisionOptions;
  /** Serve a live inspector page (`{ port, host }`). */
  inspect?: InspectOptions;
  /** ZMQ_MAXMSGSIZE of its ZeroMQ sockets. @default 67108864 (64 MiB) */
  maxMessageSize?: number;
  /** CURVE on its tcp sockets (the worker side and the cache); HTTP is not covered. */
  curve?: CurveServerOptions;
  /** Extra values preset in the server's cache. */
  cache?: Record<string, string>;
}

/** The in-process address linking the HttpGateway with the GatewayRouter and GatewayDealer. */
const LINK = "inproc://gateway_router";

/**
 * pylm's gateway microservice as a ready-made server: HTTP clients call `GET|POST /fn` and any number of
 * `Worker` processes do the work. Built from parts, as pylm's example composes it:
 *
 * ```
 * HTTP ─▶ HttpGateway ─▶ GatewayRouter ─▶ WorkerPush ─▶ workers ─▶ WorkerPull ─▶ GatewayDealer ─▶ HttpGateway ─▶ HTTP
 * ```
 * plus the cache (`Cache`) where workers discover the worker addresses.
 *
 * @example
 * const gateway = new GatewayServer({ name: "server", httpAddress: "http://127.0.0.1:8888",
 *   workerPullAddress: "tcp://127.0.0.1:5557", workerPushAddress: "tcp://127.0.0.1:5558", dbAddress: "tcp://127.0.0.1:5559" });
 * await gateway.start();   // then: curl -d hello http://127.0.0.1:8888/echo
 */
export class GatewayServer extends PalmServer {
  readonly template: ServerTemplate;
  /** The address HTTP clients call. */
  readonly httpAddress: string;

  constructor(options: GatewayServerOptions) {
    super();
    const checked = checkOptionsObject("options", options) as unknown as GatewayServerOptions;
    this.httpAddress = checkHttpUrl("httpAddress", checked.httpAddress);
    for (const key of ["workerPullAddress", "workerPushAddress", "dbAddress"] as const) {
      checkEndpoint(key, checked[key]);
    }
    const t = new ServerTemplate({
      name: checked.name,
      codec: checked.codec,
      logLevel: checked.logLevel,
      logger: checked.logger,
      supervision: checked.supervision,
      inspect: checked.inspect,
      maxMessageSize: checked.maxMessageSize,
      curve: checked.curve,
    });
    this.template = t;
    t.registerBypass(CacheService, "Cache", checked.dbAddress);
    t.registerBypass(HttpGateway, "HttpGateway", checked.httpAddress, {
      listenAddress: LINK,
      timeoutMs: checked.timeoutMs,
      maxBodyBytes: checked.maxBodyBytes,
      maxPending: checked.maxPending,
    });
    t.registerInbound(GatewayRouter, "GatewayRouter", LINK, { route: "WorkerPush" });
    t.registerOutbound(WorkerPushService, "WorkerPush", checked.workerPushAddress);
    t.registerInbound(WorkerPullService, "WorkerPull", checked.workerPullAddress, { route: "GatewayDealer" });
    t.registerOutbound(GatewayDealer, "GatewayDealer", LINK);
    t.presetCache({
      ...checked.cache,
      name: t.name,
      db_address: checked.dbAddress,
      worker_pull_address: checked.workerPullAddress,
      worker_push_address: checked.workerPushAddress,
    });
  }
}
