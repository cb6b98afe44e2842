import { createHttpGatewayBridge } from "../../src/bridges/httpGatewayBridge.js";
import { definePart, integerOption, numberOption } from "../../src/part.js";
import { checkEndpoint } from "../../src/validate.js";
import { services } from "../partKinds.js";

/** Options HttpGateway reads from its registration. */
export interface HttpGatewayOptions {
  /** The `inproc://` address of the GatewayRouter and GatewayDealer it feeds (pylm's `listen_address`). @default "inproc://gateway_router" */
  listenAddress?: string;
  /** How long a request waits for its result: then 504 (or 502 if the cluster never took it). @default 30000 */
  timeoutMs?: number;
  /** Largest request body in bytes; larger ones are answered 413. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /** Requests waiting for a result at once; beyond, 503. @default 10000 */
  maxPending?: number;
}

/**
 * The HTTP front door of a gateway (pylm's `HttpGateway`, a bypass part): `GET|POST /fn` with the payload
 * as body becomes a message for `server.fn`, handed to the GatewayRouter at `listenAddress`; the result the
 * GatewayDealer brings back is the response. 200 with the result; 404 for `/`; 405 for other methods; 413
 * over `maxBodyBytes`; 500 with the cause for an error result; 502/504 when the cluster does not take or
 * answer the request in `timeoutMs`. Any number of clients at once, each matched to its answer by id.
 *
 * @example
 * server.registerBypass(HttpGateway, "HttpGateway", "http://127.0.0.1:8888", { listenAddress: "inproc://gateway_router" });
 */
export const HttpGateway = definePart<HttpGatewayOptions>("HttpGateway", services.httpBypass, {
  optionKeys: ["listenAddress", "timeoutMs", "maxBodyBytes", "maxPending"],
  summary:
    "HTTP front door: GET|POST /fn becomes a message for the GatewayRouter; the result is the response (pylm's `HttpGateway`).",
  bridge: createHttpGatewayBridge(),
  checks: {
    listenAddress: checkEndpoint,
    timeoutMs: numberOption(1),
    maxBodyBytes: integerOption(0),
    maxPending: integerOption(1),
  },
});
