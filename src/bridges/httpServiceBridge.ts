import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type BridgeEvent, partEvents } from "../../machines/events.js";
import {
  type HttpBridgeCommand,
  type HttpBridgeEvent,
  httpPartEvents,
} from "../../machines/httpPartSetup.js";
import { RateLimitedLog } from "../logger.js";
import { createMessage, type PalmMessage } from "../message.js";
import { bridgeActor } from "./bridgeActor.js";
import { applyMaybeAsyncHook } from "./frames.js";
import {
  BodyTooLarge,
  closeServer,
  DEFAULT_HTTP_TIMEOUT_MS,
  encodeAnswer,
  listen,
  readBody,
  respond,
  respondError,
} from "./httpEdge.js";
import { DEFAULT_MAX_MESSAGE_SIZE } from "./socketPlans.js";

/** Default of HttpService's `maxRequests`: requests routed and not yet answered. */
export const DEFAULT_MAX_REQUESTS = 1024;

/** Ticket numbers are unique in the process, so a late feedback never answers a restarted part's request. */
let lastTicket = 0;

interface Waiting {
  readonly response: ServerResponse;
  readonly timer: NodeJS.Timeout;
}

/**
 * The bridge of an HttpService: an HTTP server whose POST bodies are serialised messages. Each request is
 * handed to the machine with its own ticket and answered, in any order, with the feedback of its route.
 * While the machine waits (all slots taken, or held back by the router) new requests wait here, up to as
 * many again; beyond that they are answered 503. Bad bodies are answered 400 at once.
 */
export function createHttpServiceBridge() {
  return bridgeActor<HttpBridgeCommand, BridgeEvent | HttpBridgeEvent>((environment, send, receive) => {
    const { logger, options, codec, address } = environment;
    const limit = (options.maxMessageSize as number | undefined) ?? DEFAULT_MAX_MESSAGE_SIZE;
    const slots = (options.maxRequests as number | undefined) ?? DEFAULT_MAX_REQUESTS;
    const timeoutMs = (options.timeoutMs as number | undefined) ?? DEFAULT_HTTP_TIMEOUT_MS;
    const badLog = new RateLimitedLog();
    const waiting = new Map<number, Waiting>();
    const held: Array<{ response: ServerResponse; messages: PalmMessage[] }> = [];
    let paused = false;
    let open = true;

    const submit = (response: ServerResponse, messages: PalmMessage[]) => {
      const ticket = ++lastTicket;
      const timer = setTimeout(() => {
        waiting.delete(ticket);
        respondError(response, 504, `no feedback within ${timeoutMs} ms`);
        send(httpPartEvents.answered(ticket));
      }, timeoutMs);
      waiting.set(ticket, { response, timer });
      send(httpPartEvents.request(ticket, messages));
    };
    const admit = (response: ServerResponse, messages: PalmMessage[]) => {
      if (!open) respondError(response, 503, "the service is stopping", { connection: "close" });
      else if (!paused) submit(response, messages);
      else if (held.length < slots) held.push({ response, messages });
      else respondError(response, 503, `too many requests in flight (maxRequests ${slots})`);
    };
    const badRequest = (response: ServerResponse, reason: string) => {
      send(partEvents.badFrame(1, reason));
      badLog.hit((count) => logger.warn({ count, reason }, "bad HTTP requests answered 400"));
      respondError(response, 400, `bad request: ${reason}`);
    };
    const take = (response: ServerResponse, body: Buffer) => {
      let messages: PalmMessage[];
      try {
        messages = codec.decode(body);
      } catch (error) {
        badRequest(response, error instanceof Error ? error.message : String(error));
        return;
      }
      if (messages.length === 0) {
        badRequest(response, "the body carries no message");
        return;
      }
      const scatter = options.scatter;
      if (!scatter) {
        admit(response, messages);
        return;
      }
      const failHook = (error: unknown) => {
        respondError(response, 500, error instanceof Error ? error.message : String(error));
        if (open) send(partEvents.fault(error));
      };
      try {
        const scattered = applyMaybeAsyncHook(messages, scatter, "scatter");
        if (Array.isArray(scattered)) admit(response, scattered);
        else scattered.then((done) => admit(response, done), failHook);
      } catch (error) {
        failHook(error);
      }
    };
    const handle = (request: IncomingMessage, response: ServerResponse) => {
      if (request.method !== "POST") {
        request.resume();
        respondError(response, 405, `method ${request.method} not allowed: POST a serialised message`, {
          allow: "POST",
        });
        return;
      }
      readBody(request, limit).then(
        (body) => take(response, body),
        (error) => {
          if (error instanceof BodyTooLarge)
            respondError(response, 413, error.message, { connection: "close" });
        },
      );
    };

    const server = createServer(handle);
    listen(server, address, () => open).then(
      () => {
        if (open) send(httpPartEvents.open(slots));
        else void closeServer(server);
      },
      (error) => {
        if (open) send(partEvents.fault(error));
      },
    );
    receive((command) => {
      switch (command.type) {
        case "bridge.answer": {
          const entry = waiting.get(command.ticket);
          if (!entry) return; // timed out, or a request of this part's predecessor
          waiting.delete(command.ticket);
          clearTimeout(entry.timer);
          const messages =
            command.messages.length > 0
              ? command.messages
              : [createMessage({ error: "the route produced no feedback" })];
          respond(entry.response, 200, encodeAnswer(codec, messages));
          send(httpPartEvents.answered(command.ticket));
          return;
        }
        case "bridge.pause":
          paused = true;
          return;
        case "bridge.resume":
          paused = false;
          // Submitting may pause the bridge again (the machine's slots filled up): stop there.
          while (!paused && held.length > 0) {
            const next = held.shift()!;
            submit(next.response, next.messages);
          }
          return;
        default:
          return;
      }
    });
    return () => {
      open = false;
      for (const entry of waiting.values()) {
        clearTimeout(entry.timer);
        respondError(entry.response, 503, "the service stopped before answering", { connection: "close" });
      }
      waiting.clear();
      for (const { response } of held.splice(0)) {
        respondError(response, 503, "the service stopped before answering", { connection: "close" });
      }
      void closeServer(server);
    };
  });
}
