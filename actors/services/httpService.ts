import { createHttpServiceBridge } from "../../src/bridges/httpServiceBridge.js";
import { definePart, integerOption, numberOption } from "../../src/part.js";
import { services } from "../partKinds.js";

/** Options HttpService reads from its registration, besides the common part options. */
export interface HttpServiceOptions {
  /** Requests routed and not yet answered; past it new requests wait (as many again), then get 503. @default 1024 */
  maxRequests?: number;
  /** How long a request waits for its feedback before it is answered 504. @default 30000 */
  timeoutMs?: number;
  /** Largest request body in bytes; larger ones are answered 413. @default 67108864 (64 MiB) */
  maxMessageSize?: number;
}

/**
 * Serves HTTP at its `http://host:port` address (pylm's `HttpService`): each POST body is a serialised
 * message (the server's codec), routed like a REP request and answered with the feedback of its route.
 * Unlike REP it holds many requests at once (`maxRequests`); other methods get 405, bad bodies 400.
 *
 * @example
 * server.registerInbound(HttpService, "Http", "http://127.0.0.1:8080", { route: "Req", block: true });
 */
export const HttpService = definePart<HttpServiceOptions>("HttpService", services.httpInbound, {
  optionKeys: ["maxRequests", "timeoutMs"],
  summary:
    "Serves HTTP: each POST body is a serialised message, answered with the feedback of its route (pylm's `HttpService`); many requests at once.",
  bridge: createHttpServiceBridge(),
  checks: { maxRequests: integerOption(1), timeoutMs: numberOption(1), maxMessageSize: integerOption(1) },
});
