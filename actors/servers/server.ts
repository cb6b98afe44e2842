import { invalidOption, remoteErrorText } from "../../src/errors.js";
import { currentFunction, failedMessage, type PalmMessage } from "../../src/message.js";
import type { PartOptions, StreamItem } from "../../src/part.js";
import { ServerTemplate } from "../../src/serverTemplate.js";
import { checkTracingOption, traceRuns } from "../../src/tracing/hops.js";
import {
  checkEndpoint,
  checkInteger,
  checkOptionalEndpoint,
  checkOptionsObject,
} from "../../src/validate.js";
import { DeadlineContext } from "../../src/worker/callContext.js";
import {
  createFunctionRunner,
  type FunctionLookup,
  methodLookup,
  type UserFunction,
} from "../functionRunner.js";
import { CacheService } from "../services/cacheService.js";
import { PubService } from "../services/pubService.js";
import { PullService } from "../services/pullService.js";
import { registerResultStreams } from "../services/streamService.js";
import type { ServerCommonOptions } from "./master.js";
import { COMMON_BINDS, SERVER_KEYS } from "./optionKeys.js";
import { checkServerOptions, PalmServer, templateOptions } from "./palmServer.js";

/** Options every server that runs user functions in its own process shares (Server, Pipeline, Sink). */
export interface InProcessServerOptions extends Omit<ServerCommonOptions, "pipelined"> {
  /** Functions by name, instead of (or besides) methods of a subclass; sync or async, returning bytes. */
  functions?: Record<string, UserFunction>;
  /** Chooses the topic a result is published under (and may change the message). @default client id, or (pipelined) the server's name with stage + 1 */
  handleStream?: (message: PalmMessage) => StreamItem;
  /** ZMQ_SNDHWM/ZMQ_RCVHWM (in frames) of the sockets messages pass through (not the cache's). @default 1000 (libzmq's) */
  highWaterMark?: number;
  /**
   * How long an async function may run: past it, its message is answered with a `PALM_ERR_TIMEOUT` error
   * result, its `context.signal` fires and the server goes on with the next message (what the call returns
   * later is dropped). Functions run one at a time, so a call that never settled held the server for ever.
   * @default 60000
   */
  callTimeoutMs?: number;
}

/** Default of `callTimeoutMs` for Server, Pipeline and Sink (a Master's too). */
const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/** Options of a `Server` (pylm's `Server(name, db_address, pull_address, pub_address, pipelined)`). */
export interface ServerOptions extends InProcessServerOptions {
  /** Where clients push messages (PULL, bound). */
  pullAddress: string;
  /** Where results are published (PUB, bound). */
  pubAddress: string;
  /** Publish results under the server's name with stage + 1, for a `Pipeline`, `Sink` or `Hub`, instead of to clients. @default false */
  pipelined?: boolean;
}

/** pylm's `Server.echo`: returns the payload unchanged (a server that only steers the stream). */
const echo: UserFunction = (payload) => payload;

/** Checks the `functions` option: an object of functions. */
export function checkFunctions(value: unknown): Record<string, UserFunction> | undefined {
  if (value === undefined) return undefined;
  const functions = checkOptionsObject("functions", value);
  for (const [key, fn] of Object.entries(functions)) {
    if (typeof fn !== "function") throw invalidOption(`functions.${key}`, "a function", fn);
  }
  return functions as Record<string, UserFunction>;
}

/** Checks an optional boolean option. */
export function checkOptionalBoolean(option: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") throw invalidOption(option, "true or false", value);
  return value;
}

/**
 * The parts and the function running that Server, Pipeline and Sink share: a cache, a publisher, and a
 * hook that runs the function each message names in this process (the `functions` option, or a method of
 * a subclass; the built-in `echo` otherwise). A message naming another server, or a function that fails,
 * becomes an error result; a message that arrives already failed passes on untouched.
 */
export abstract class InProcessServer extends PalmServer {
  readonly template: ServerTemplate;
  readonly #options: InProcessServerOptions;
  readonly #pipelined: boolean;
  readonly #run: (message: PalmMessage, context: DeadlineContext) => PalmMessage[] | Promise<PalmMessage[]>;
  readonly #callTimeoutMs: number;

  /**
   * @param settings.base the ready-made class's prototype (`Server.prototype`, …): methods a subclass adds
   * below it are callable by name; the framework's own (`start`, `handleStream`, …) never are.
   */
  protected constructor(
    options: InProcessServerOptions,
    settings: { base: object; pipelined: boolean; dropEmpty: boolean },
  ) {
    super();
    checkEndpoint("dbAddress", options.dbAddress);
    const functions = checkFunctions(options.functions);
    if (options.handleStream !== undefined && typeof options.handleStream !== "function") {
      throw invalidOption("handleStream", "a function", options.handleStream);
    }
    if (options.slowConsumerMs !== undefined) checkInteger("slowConsumerMs", options.slowConsumerMs, 1);
    checkOptionalEndpoint("resultStreamAddress", options.resultStreamAddress);
    if (options.highWaterMark !== undefined) checkInteger("highWaterMark", options.highWaterMark, 0);
    if (options.callTimeoutMs !== undefined) checkInteger("callTimeoutMs", options.callTimeoutMs, 1);
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#options = options;
    this.#pipelined = settings.pipelined;
    this.template = new ServerTemplate(templateOptions(options));
    this.template.registerBypass(CacheService, "Cache", options.dbAddress);
    const run = createFunctionRunner(this.#lookup(settings.base, functions), this.template.logger, {
      dropEmpty: settings.dropEmpty,
    });
    // With `tracing`, each call it runs is an `execute` span, child of the caller's span.
    this.#run = traceRuns(run, checkTracingOption(options.tracing), this.template.name) as typeof run;
  }

  #lookup(base: object, functions: Record<string, UserFunction> | undefined): FunctionLookup {
    const methods = methodLookup(this, base);
    return (fn) => {
      if (functions && Object.hasOwn(functions, fn)) return functions[fn];
      // A subclass overriding a framework method (`handleStream`) does not make it callable by clients.
      if (!(fn in base)) {
        const method = methods(fn);
        if (method) return method;
      }
      return fn === "echo" ? echo : undefined;
    };
  }

  /** Registers the publisher the results go out on. */
  protected registerPublisher(pubAddress: string): void {
    const { slowConsumerMs, resultStreamAddress: address, pubNoDrop, highWaterMark } = this.#options;
    this.template.registerOutbound(PubService, "Pub", pubAddress, {
      ...registerResultStreams(this.template, pubAddress, { slowConsumerMs, address, highWaterMark }),
      highWaterMark,
      noDrop: pubNoDrop === true,
      pipelined: this.#pipelined,
      handleStream: (message) => this.publishedStream(message, this.#pipelined),
    });
  }

  /** The options of an inbound part whose messages are run here and published. */
  protected runOptions(): PartOptions {
    return {
      route: "Pub",
      highWaterMark: this.#options.highWaterMark,
      scatter: (message: PalmMessage) => this.#execute(message),
    };
  }

  #execute(message: PalmMessage): PalmMessage[] | Promise<PalmMessage[]> {
    // Failed upstream: the error travels on to the client unchanged.
    if (message.error !== undefined) return [message];
    const entry = currentFunction(message);
    const wrong = this.wrongServer(entry);
    if (wrong !== undefined) return [failedMessage(message, wrong)];
    const timeoutMs = this.#callTimeoutMs;
    const context = new DeadlineContext(Date.now() + timeoutMs);
    const out = this.#run(message, context);
    if (Array.isArray(out)) {
      context.dispose();
      return out;
    }
    // An async call: the next message waits for it, so it gets a deadline of its own. At the deadline the
    // context's one timer aborts the call's signal and answers the caller at once.
    return new Promise((resolve, reject) => {
      context.watch(() => {
        const text = `${entry} did not settle within ${timeoutMs} ms (callTimeoutMs): answered, and left behind`;
        resolve([failedMessage(message, remoteErrorText("PALM_ERR_TIMEOUT", text))]);
      }, 0);
      out.then(
        (messages) => {
          context.dispose();
          resolve(messages);
        },
        (error) => {
          context.dispose();
          reject(error);
        },
      );
    });
  }

  /**
   * The topic a result is published under: the client's id, or (pipelined) the server's name with the
   * stage moved on by one. Override, or pass the `handleStream` option.
   */
  handleStream(message: PalmMessage): StreamItem {
    if (this.#options.handleStream) return this.#options.handleStream(message);
    // An error result keeps its stage, so the client's RemoteError names the function that failed.
    if (message.error !== undefined && this.#pipelined) return { topic: this.name, message };
    return this.defaultStream(message, this.#pipelined);
  }
}

/** The addresses a Server checks and publishes in its cache. */
const SERVER_ADDRESSES = ["pullAddress", "pubAddress", "dbAddress"] as const;

/**
 * A server that runs user functions itself, one message at a time (pylm's `Server`): clients push to its
 * PULL, it runs the function the message names and publishes the result on its PUB to the client — or,
 * `pipelined`, under its own name with the stage moved on, for a `Pipeline`, `Sink` or `Hub`.
 *
 * @example
 * class MyServer extends Server { foo(payload: Uint8Array) { return Buffer.concat([Buffer.from("you sent me "), payload]); } }
 * const server = new MyServer({ name: "my_server", pullAddress, pubAddress, dbAddress });
 * await server.start();
 */
export class Server extends InProcessServer {
  constructor(options: ServerOptions) {
    const checked = checkServerOptions(options, {
      owner: "Server",
      known: SERVER_KEYS,
      addresses: SERVER_ADDRESSES,
      binds: ["pullAddress", "pubAddress", ...COMMON_BINDS],
    });
    const pipelined = checkOptionalBoolean("pipelined", checked.pipelined) ?? false;
    super(checked, { base: Server.prototype, pipelined, dropEmpty: false });
    this.template.registerInbound(PullService, "Pull", checked.pullAddress, this.runOptions());
    this.registerPublisher(checked.pubAddress);
    this.presetAddresses(checked.cache, checked, SERVER_ADDRESSES);
  }
}
