import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createActor } from "xstate";
import { earliestDeadlineEvents, earliestDeadlineMachine } from "../../machines/earliestDeadline.js";
import { partEvents } from "../../machines/events.js";
import { createMessage, type PalmMessage } from "../message.js";
import { bridgeActor } from "./bridgeActor.js";
import {
  BodyTooLarge,
  closeServer,
  DEFAULT_HTTP_TIMEOUT_MS,
  listen,
  readBody,
  respond,
  respondError,
} from "./httpEdge.js";
import { gatewayExchange, type MessageSink } from "./httpGatewayExchange.js";

/** Defaults of HttpGateway's options. */
export const GATEWAY_DEFAULTS = {
  listenAddress: "inproc://gateway_router",
  timeoutMs: DEFAULT_HTTP_TIMEOUT_MS,
  maxBodyBytes: 1024 * 1024,
  maxPending: 10_000,
} as const;

interface Waiting {
  readonly response: ServerResponse;
  /** `Date.now()` at its deadline. */
  readonly expiresAt: number;
}

/** `server.fn` for the request path `/fn` (a path naming `server.fn` itself is kept); "" for `/`. */
export function functionForPath(url: string | undefined, server: string): string {
  const path = (url ?? "/").split("?", 1)[0]!;
  let segment = path.split("/", 2)[1] ?? "";
  try {
    segment = decodeURIComponent(segment);
  } catch {
    // A malformed escape stays as it came: the worker will answer that no such function exists.
  }
  if (segment === "") return "";
  return segment.includes(".") ? segment : `${server}.${segment}`;
}

/** The id of the request a result answers: a scattered or mux result's id extends it after a `/`. */
function requestId(message: PalmMessage): string {
  const id = message.id || message.cache;
  const cut = id.indexOf("/");
  return cut === -1 ? id : id.slice(0, cut);
}

/**
 * The bridge of an HttpGateway: an HTTP server where `GET|POST /fn` (body = payload) becomes a message for
 * `server.fn`, handed to the GatewayRouter through the server's exchange, and the result the GatewayDealer
 * hands back — matched by message id, so each client gets exactly its own — becomes the response body.
 * Requests that arrive together are handed over together (one batch per turn of the event loop).
 */
export function createHttpGatewayBridge() {
  return bridgeActor((environment, send) => {
    const { options, address, server: serverName } = environment;
    const listenAddress = (options.listenAddress as string | undefined) ?? GATEWAY_DEFAULTS.listenAddress;
    const timeoutMs = (options.timeoutMs as number | undefined) ?? GATEWAY_DEFAULTS.timeoutMs;
    const limit = (options.maxBodyBytes as number | undefined) ?? GATEWAY_DEFAULTS.maxBodyBytes;
    const maxPending = (options.maxPending as number | undefined) ?? GATEWAY_DEFAULTS.maxPending;
    const exchange = gatewayExchange(environment, listenAddress);
    const client = `${serverName}:http:${process.pid.toString(36)}${Date.now().toString(36)}`;
    // In arrival order, which is deadline order (every request waits `timeoutMs`): one timer, on the
    // actor clock, for the earliest deadline stands for all of them.
    const waiting = new Map<string, Waiting>();
    let armed = false;
    let next = 0;
    let batch: PalmMessage[] = [];
    let flushing: NodeJS.Immediate | undefined;
    let open = true;

    const flush = () => {
      flushing = undefined;
      const out = batch;
      batch = [];
      exchange.submit(out);
      send(partEvents.received(out));
    };
    const expire = (id: string, response: ServerResponse) => {
      waiting.delete(id);
      if (exchange.withdraw(id)) {
        respondError(
          response,
          502,
          `the cluster did not take the request within ${timeoutMs} ms (is its GatewayRouter down?)`,
        );
      } else {
        respondError(response, 504, `the workers did not answer within ${timeoutMs} ms`);
      }
    };
    const deadlines = createActor(
      earliestDeadlineMachine.provide({
        actions: {
          // The earliest deadline came: answer what is due; the first request not due arms the timer again.
          expire: () => {
            armed = false;
            const now = Date.now();
            for (const [id, entry] of waiting) {
              if (entry.expiresAt > now) {
                armed = true;
                deadlines.send(earliestDeadlineEvents.arm(entry.expiresAt - now));
                return;
              }
              expire(id, entry.response);
            }
          },
        },
      }),
    ).start();
    const forward = (fn: string, payload: Buffer, response: ServerResponse) => {
      if (waiting.size >= maxPending) {
        respondError(response, 503, `too many requests in flight (maxPending ${maxPending})`);
        return;
      }
      const id = `${client}:${++next}`;
      waiting.set(id, { response, expiresAt: Date.now() + timeoutMs });
      if (!armed) {
        armed = true;
        deadlines.send(earliestDeadlineEvents.arm(timeoutMs));
      }
      // A client that hangs up gives its place back; a late result for it is then dropped.
      response.once("close", () => {
        if (response.writableFinished || !waiting.delete(id)) return;
        exchange.withdraw(id);
      });
      // The id travels in `id` and, as pylm's GatewayRouter put it, in `cache` (for peers that drop `id`).
      batch.push(createMessage({ pipeline: id, client, function: fn, cache: id, payload, id }));
      flushing ??= setImmediate(flush);
    };
    const handle = (request: IncomingMessage, response: ServerResponse) => {
      if (request.method !== "GET" && request.method !== "POST") {
        request.resume();
        respondError(response, 405, `method ${request.method} not allowed: GET or POST /<function>`, {
          allow: "GET, POST",
        });
        return;
      }
      const fn = functionForPath(request.url, serverName);
      if (fn === "") {
        request.resume();
        respondError(response, 404, "no function: request /<function>, e.g. POST /echo");
        return;
      }
      readBody(request, limit).then(
        (payload) => {
          if (open) forward(fn, payload, response);
          else respondError(response, 503, "the gateway is stopping", { connection: "close" });
        },
        (error) => {
          if (error instanceof BodyTooLarge)
            respondError(response, 413, error.message, { connection: "close" });
        },
      );
    };
    const answer: MessageSink = (messages) => {
      for (const message of messages) {
        const id = requestId(message);
        const entry = waiting.get(id);
        if (!entry) continue; // a duplicate, or its client gave up
        waiting.delete(id);
        if (message.error !== undefined) respondError(entry.response, 500, message.error);
        else respond(entry.response, 200, message.payload);
        send(partEvents.replied());
      }
    };

    const server = createServer(handle);
    listen(server, address, () => open).then(
      () => {
        if (!open) {
          void closeServer(server);
          return;
        }
        exchange.attachFront(answer);
        send(partEvents.ready());
      },
      (error) => {
        if (open) send(partEvents.fault(error));
      },
    );
    return () => {
      open = false;
      exchange.detachFront(answer);
      if (flushing) clearImmediate(flushing);
      deadlines.send(earliestDeadlineEvents.stop());
      deadlines.stop();
      for (const [id, entry] of waiting) {
        exchange.withdraw(id);
        respondError(entry.response, 503, "the gateway stopped before the answer came", {
          connection: "close",
        });
      }
      waiting.clear();
      void closeServer(server);
    };
  });
}
