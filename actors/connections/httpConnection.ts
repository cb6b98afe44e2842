import { createHttpConnectionBridge } from "../../src/bridges/httpConnectionBridge.js";
import { definePart, integerOption, numberOption } from "../../src/part.js";
import { connections } from "../partKinds.js";

/** Options HttpConnection reads from its registration, besides the common part options. */
export interface HttpConnectionOptions {
  /** POSTs in flight at once (pylm's `max_workers`). @default 4 */
  maxWorkers?: number;
  /** How long a POST may take; past it the message's feedback is an error. @default 30000 */
  timeoutMs?: number;
}

/**
 * POSTs each message to its `http://` URL — an HTTP worker — and makes the answer its feedback (pylm's
 * `HttpConnection`): blocking, with at most `maxWorkers` POSTs in flight. A dead, refusing or slow worker
 * (past `timeoutMs`) makes an error feedback (the message with `error` set), never a hang.
 *
 * @example
 * server.registerOutbound(HttpConnection, "Http", "http://127.0.0.1:8888", { route: "Pub", maxWorkers: 4 });
 */
export const HttpConnection = definePart<HttpConnectionOptions>("HttpConnection", connections.httpOutbound, {
  optionKeys: ["maxWorkers", "timeoutMs"],
  summary:
    "POSTs each message to an HTTP worker, at most maxWorkers at once; the answer is the feedback (pylm's `HttpConnection`).",
  bridge: createHttpConnectionBridge(),
  checks: { maxWorkers: integerOption(1, 1024), timeoutMs: numberOption(1) },
});
