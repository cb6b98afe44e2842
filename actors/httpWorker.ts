import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  BodyTooLarge,
  closeServer,
  encodeAnswer,
  listen,
  readBody,
  respond,
  respondError,
} from "../src/bridges/httpEdge.js";
import { type Codec, type CodecName, getCodec } from "../src/codec/index.js";
import { invalidOption, PalmError } from "../src/errors.js";
import { createLogger, type Logger, type LogLevel } from "../src/logger.js";
import type { PalmMessage } from "../src/message.js";
import {
  checkHttpUrl,
  checkInteger,
  checkName,
  checkOptionKeys,
  checkOptionsObject,
  optionKeys,
} from "../src/validate.js";
import { createFunctionRunner, methodLookup, type UserFunction } from "./functionRunner.js";

/** Options of an `HttpWorker` (pylm's `RequestHandler` + `DebugServer`). */
export interface HttpWorkerOptions {
  /** The worker's name (for logs). @default "http-worker" */
  name?: string;
  /** Where `start()` listens. @default "http://127.0.0.1:8888" */
  address?: string;
  /** Functions by name, instead of (or besides) methods of a subclass. */
  functions?: Record<string, UserFunction>;
  /** Must match the server's. @default "msgpack" */
  codec?: CodecName;
  /** Largest request body in bytes; larger ones are answered 413. @default 67108864 (64 MiB) */
  maxBodyBytes?: number;
  /** @default "info" */
  logLevel?: LogLevel;
  logger?: Logger;
}

/** The options an `HttpWorker` accepts. */
const HTTP_WORKER_KEYS = optionKeys<HttpWorkerOptions>()({
  name: true,
  address: true,
  functions: true,
  codec: true,
  maxBodyBytes: true,
  logLevel: true,
  logger: true,
});

/** The header an error answer names its cause in, for people reading it with `curl -i`. */
export const ERROR_HEADER = "x-palm-error";

/** Makes `text` fit an HTTP header value: one line of printable ASCII, at most 200 characters. */
function headerText(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, " ").slice(0, 200);
}

/**
 * A worker served over HTTP (pylm's WSGI worker): POST a serialised message, get it back with the result
 * of the function it names as its payload. Other methods get 405; a body that is no message gets 400; a
 * function that throws (or is unknown) gets 500 with the message back, its `error` set (and the cause in
 * the `x-palm-error` header). `handler` plugs into any Node HTTP server; `start()` runs its own.
 *
 * @example
 * class Echo extends HttpWorker { echo(payload: Uint8Array) { return payload; } }
 * await new Echo({ address: "http://127.0.0.1:8888" }).start();
 */
export class HttpWorker {
  readonly name: string;
  readonly address: string;
  readonly logger: Logger;
  readonly #codec: Codec;
  readonly #limit: number;
  readonly #run: (message: PalmMessage) => PalmMessage[] | Promise<PalmMessage[]>;
  #server: Server | undefined;

  constructor(options: HttpWorkerOptions = {}) {
    const checked = checkOptionsObject("options", options) as HttpWorkerOptions;
    checkOptionKeys("HttpWorker", checked, HTTP_WORKER_KEYS);
    this.name = checkName("name", checked.name ?? "http-worker");
    this.address = checkHttpUrl("address", checked.address ?? "http://127.0.0.1:8888");
    this.#limit = checkInteger("maxBodyBytes", checked.maxBodyBytes ?? 64 * 1024 * 1024, 1);
    if (checked.functions !== undefined) {
      checkOptionsObject("functions", checked.functions);
      for (const [key, fn] of Object.entries(checked.functions)) {
        if (typeof fn !== "function") throw invalidOption(`functions.${key}`, "a function", fn);
      }
    }
    this.#codec = getCodec(checked.codec ?? "msgpack");
    this.logger = createLogger({
      name: this.name,
      level: checked.logLevel,
      logger: checked.logger,
      kind: "worker",
    });
    this.#run = createFunctionRunner(
      methodLookup(this, HttpWorker.prototype, checked.functions),
      this.logger,
    );
  }

  /** Handles one request; plug it into any Node HTTP server (`createServer(worker.handler)`). */
  readonly handler = (request: IncomingMessage, response: ServerResponse): void => {
    if (request.method !== "POST") {
      request.resume();
      respondError(response, 405, `method ${request.method} not allowed: POST a serialised message`, {
        allow: "POST",
      });
      return;
    }
    readBody(request, this.#limit)
      .then((body) => this.#answer(body))
      .then(
        ({ status, body, error }) => respond(response, status, body, error ? { [ERROR_HEADER]: error } : {}),
        (error) => {
          if (error instanceof BodyTooLarge)
            respondError(response, 413, error.message, { connection: "close" });
          else if (!response.headersSent) respondError(response, 500, String(error));
        },
      );
  };

  async #answer(body: Buffer): Promise<{ status: number; body: Uint8Array | string; error?: string }> {
    let messages: PalmMessage[];
    try {
      messages = this.#codec.decode(body);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { status: 400, body: `bad request: ${reason}\n` };
    }
    if (messages.length === 0) return { status: 400, body: "bad request: the body carries no message\n" };
    const results: PalmMessage[] = [];
    for (const message of messages) results.push(...(await this.#run(message)));
    const failure = results.find((result) => result.error !== undefined);
    if (failure)
      return { status: 500, body: encodeAnswer(this.#codec, results), error: headerText(failure.error!) };
    return { status: 200, body: encodeAnswer(this.#codec, results) };
  }

  /** Listens at `address`; resolves once bound. */
  async start(): Promise<void> {
    if (this.#server)
      throw new PalmError("PALM_ERR_SERVER_STATE", `HTTP worker "${this.name}" was already started`);
    const server = createServer(this.handler);
    this.#server = server;
    await listen(server, this.address, () => this.#server === server);
    this.logger.info({ address: this.address }, "HTTP worker listening");
  }

  /** Stops listening and closes every connection. Idempotent. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server) await closeServer(server);
  }
}
