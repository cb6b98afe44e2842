import type { BridgeEvent } from "../../machines/events.js";
import {
  type HttpBridgeCommand,
  type HttpBridgeEvent,
  httpPartEvents,
} from "../../machines/httpPartSetup.js";
import type { Codec } from "../codec/codec.js";
import { RateLimitedLog } from "../logger.js";
import { failedMessage, type PalmMessage } from "../message.js";
import { bridgeActor } from "./bridgeActor.js";
import { applyHook } from "./frames.js";
import { DEFAULT_HTTP_TIMEOUT_MS } from "./httpEdge.js";
import { DEFAULT_MAX_MESSAGE_SIZE } from "./socketPlans.js";

/** Default of HttpConnection's `maxWorkers` (pylm's `max_workers`). */
export const DEFAULT_MAX_WORKERS = 4;

/** A fetch failure in words: `fetch failed` alone names no cause, so its `cause` is added. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause ? `${error.message}: ${cause}` : error.message;
}

/**
 * Reads an answer's body of at most `limit` bytes; a larger one (declared or streamed) is refused before it
 * is all in memory, so a peer that answers without end cannot exhaust the server's heap.
 */
async function readAnswer(response: Response, limit: number): Promise<Buffer> {
  const tooLarge = () => new Error(`the answer is larger than ${limit} bytes (maxMessageSize)`);
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    size += read.value.byteLength;
    if (size > limit) {
      await reader?.cancel();
      throw tooLarge();
    }
    chunks.push(read.value);
  }
  return Buffer.concat(chunks, size);
}

/** The answer of a failed POST: the worker's own error message when its body is one, else the status. */
function failedAnswer(codec: Codec, message: PalmMessage, status: number, body: Buffer): PalmMessage {
  try {
    const [answer] = codec.decode(body);
    if (answer?.error !== undefined) return answer;
  } catch {
    // Not a message: a plain text error (or none) from something that is not a palm worker.
  }
  const text = body.toString("utf8", 0, Math.min(body.length, 200)).trim();
  return failedMessage(message, `HTTP ${status}${text ? `: ${text}` : ""}`);
}

/**
 * The bridge of an HttpConnection: POSTs each message its machine hands it to the part's URL with `fetch`
 * and reports the answers. Every POST ends with answers: a dead, refusing or slow peer (past `timeoutMs`)
 * yields one message with `error` set, so the part never hangs. Stopping the part aborts its POSTs.
 */
export function createHttpConnectionBridge() {
  return bridgeActor<HttpBridgeCommand, BridgeEvent | HttpBridgeEvent>((environment, send, receive) => {
    const { logger, options, codec, address } = environment;
    const slots = (options.maxWorkers as number | undefined) ?? DEFAULT_MAX_WORKERS;
    const timeoutMs = (options.timeoutMs as number | undefined) ?? DEFAULT_HTTP_TIMEOUT_MS;
    const limit =
      (options.maxMessageSize as number | undefined) ??
      environment.maxMessageSize ??
      DEFAULT_MAX_MESSAGE_SIZE;
    const failures = new RateLimitedLog();
    /** One controller per POST under way: its timeout aborts it, and so does the part stopping. */
    const underWay = new Set<AbortController>();
    let open = true;

    const postOne = async (message: PalmMessage): Promise<PalmMessage[]> => {
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      underWay.add(controller);
      try {
        const response = await fetch(address, {
          method: "POST",
          // A Buffer from the codec is an ArrayBuffer view; the DOM typings only fear a SharedArrayBuffer.
          body: codec.encodeOne(message) as Uint8Array<ArrayBuffer>,
          headers: { "content-type": "application/octet-stream" },
          signal: controller.signal,
        });
        const body = await readAnswer(response, limit);
        if (!response.ok) return [failedAnswer(codec, message, response.status, body)];
        const answers = codec.decode(body);
        return answers.length > 0 ? answers : [failedMessage(message, "the HTTP worker answered no message")];
      } catch (error) {
        const reason = `POST ${address} failed: ${timedOut ? `no answer within ${timeoutMs} ms` : describeFailure(error)}`;
        if (open) failures.hit((count) => logger.warn({ count, reason }, "HTTP posts failed"));
        return [failedMessage(message, reason)];
      } finally {
        clearTimeout(timer);
        underWay.delete(controller);
      }
    };
    const post = async (message: PalmMessage): Promise<PalmMessage[]> => {
      let messages: PalmMessage[];
      try {
        messages = applyHook([message], options.gather, "gather");
      } catch (error) {
        return [failedMessage(message, error instanceof Error ? error.message : String(error))];
      }
      const answers: PalmMessage[] = [];
      // Gathered messages share the one slot: the parallelism bound holds whatever the hook returns.
      for (const each of messages) answers.push(...(await postOne(each)));
      return answers;
    };

    // Nothing to connect: the part is ready at once (each POST finds out whether the peer is there).
    queueMicrotask(() => {
      if (open) send(httpPartEvents.open(slots));
    });
    receive((command) => {
      if (command.type !== "bridge.post") return;
      const { seq, index, message } = command;
      void post(message).then((answers) => {
        if (open) send(httpPartEvents.posted(seq, index, answers));
      });
    });
    return () => {
      open = false;
      for (const controller of underWay) controller.abort();
    };
  });
}
