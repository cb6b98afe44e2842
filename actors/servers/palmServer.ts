import { describeError, describeValue, type PalmError, remoteErrorText } from "../../src/errors.js";
import type { Logger } from "../../src/logger.js";
import type { PalmMessage } from "../../src/message.js";
import { failedMessage, splitFunction } from "../../src/message.js";
import { isStreamItem, type StreamItem } from "../../src/part.js";
import type {
  PartInfo,
  ServerEventMap,
  ServerTemplate,
  ServerTemplateOptions,
} from "../../src/serverTemplate.js";
import {
  checkDistinctBinds,
  checkEndpoint,
  checkOptionKeys,
  checkOptionsObject,
  type OptionKeys,
} from "../../src/validate.js";
import { defaultHandleStream } from "../services/pubService.js";

/** The `ServerTemplate` options a ready-made server passes on from its own. */
export function templateOptions(options: ServerTemplateOptions): ServerTemplateOptions {
  const { name, codec, logLevel, logger, supervision, inspect, metrics, now, maxMessageSize, curve } =
    options;
  return { name, codec, logLevel, logger, supervision, inspect, metrics, now, maxMessageSize, curve };
}

/** The name of an address option (`pullAddress`, `workerPushAddress`, …). */
type AddressKey = `${string}Address`;

/** What a ready-made server accepts: its name, its option keys, the addresses it checks and those it binds. */
export interface ServerOptionSpec<Options> {
  owner: string;
  known: OptionKeys<Options>;
  addresses: ReadonlyArray<keyof Options & AddressKey>;
  binds: ReadonlyArray<keyof Options & AddressKey>;
}

/**
 * Checks a ready-made server's options: an object with no key `spec.known` lacks, each address option in
 * `spec.addresses` an endpoint (the error names the first that is not), and no two bound addresses equal.
 * Returns the options.
 */
export function checkServerOptions<Options extends object>(
  options: Options,
  spec: ServerOptionSpec<Options>,
): Options {
  const checked = checkOptionsObject("options", options) as unknown as Options;
  checkOptionKeys(spec.owner, checked, spec.known);
  for (const key of spec.addresses) checkEndpoint(key, checked[key]);
  checkDistinctBinds(checked, spec.binds as readonly string[]);
  return checked;
}

/**
 * What every ready-made server (Master, Hub, Server, Pipeline, Sink) and Worker offers: it is a
 * `ServerTemplate` underneath, and these pass through to it.
 */
export abstract class PalmServer {
  /** The composed server: its parts, router and cache. */
  abstract readonly template: ServerTemplate;
  #defaultStream: ((message: PalmMessage) => StreamItem) | undefined;

  get name(): string {
    return this.template.name;
  }

  get logger(): Logger {
    return this.template.logger;
  }

  /** Resolves with the cause if the server escalates (restart intensity exceeded). */
  get failed(): Promise<PalmError> {
    return this.template.failed;
  }

  /**
   * Presets the server's cache with the user's `cache` values, its name, and each address under the key
   * pylm clients and workers read (`pullAddress` as `pull_address`).
   */
  protected presetAddresses<Options extends object>(
    cache: Record<string, string> | undefined,
    addresses: Options,
    keys: ReadonlyArray<keyof Options & AddressKey>,
  ): void {
    const entries: Record<string, string> = { ...cache, name: this.name };
    for (const key of keys) {
      entries[key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)] = String(addresses[key]);
    }
    this.template.presetCache(entries);
  }

  /**
   * The error a message gets when its function (`entry`, `server.fn`) names another server, logged; undefined
   * when it names this one.
   */
  protected wrongServer(entry: string): string | undefined {
    const { server } = splitFunction(entry);
    if (server === this.name) return undefined;
    this.logger.error({ function: entry }, "message for another server");
    return `server "${this.name}" cannot run "${entry}": it names server "${server}"`;
  }

  /** pylm's topic for a result: the client's id, or (`pipelined`) the server's name with the stage moved on. */
  protected defaultStream(message: PalmMessage, pipelined: boolean): StreamItem {
    this.#defaultStream ??= defaultHandleStream(this.name, pipelined);
    return this.#defaultStream(message);
  }

  /**
   * The topic a result is published under (and the result itself, maybe changed): the method, or the
   * `handleStream` option. Override to choose.
   */
  abstract handleStream(message: PalmMessage): StreamItem;

  /**
   * Where a result is published, by the server's `handleStream`. A hook that throws, or answers with no
   * `{ topic, message }`, fails that one result instead of its publisher, which would fail again on every
   * redelivery of it until the server escalated: the caller gets `PALM_ERR_PART_HOOK` where the result
   * would have gone by default.
   */
  protected publishedStream(message: PalmMessage, pipelined: boolean): StreamItem {
    let item: unknown;
    try {
      item = this.handleStream(message);
    } catch (error) {
      return this.#failedStream(message, pipelined, `handleStream threw ${describeError(error)}`);
    }
    if (isStreamItem(item)) return item;
    const text = `handleStream returned ${describeValue(item)}: it must return { topic, message }`;
    return this.#failedStream(message, pipelined, text);
  }

  #failedStream(message: PalmMessage, pipelined: boolean, text: string): StreamItem {
    const failed = failedMessage(message, remoteErrorText("PALM_ERR_PART_HOOK", text));
    // Pipelined, an error result keeps its stage, so the client's RemoteError names the function.
    return pipelined ? { topic: this.name, message: failed } : this.defaultStream(failed, false);
  }

  /** Starts every part; resolves once all are ready. */
  start(): Promise<void> {
    return this.template.start();
  }

  /** Stops every part and closes every socket. Idempotent. */
  stop(): Promise<void> {
    return this.template.stop();
  }

  /** Crashes a part on purpose; it is supervised like a real fault. */
  crash(part: string, reason?: string): boolean {
    return this.template.crash(part, reason);
  }

  /** Makes a part's socket fail on purpose. */
  failSocket(part: string, reason?: string): boolean {
    return this.template.failSocket(part, reason);
  }

  /** Ends a part normally (for restart-type tests): `permanent` parts restart, the others stay stopped. */
  exitPart(part: string): boolean {
    return this.template.exitPart(part);
  }

  /** Makes a part's next hook call throw, once. */
  failHook(part: string, hook?: "scatter" | "gather" | "handleStream"): void {
    this.template.failHook(part, hook);
  }

  /** Each part's state, counters and restarts. */
  parts(): PartInfo[] {
    return this.template.parts();
  }

  /** Subscribes to lifecycle events (or, on Master and Hub, worker events by name); returns the unsubscribe function. */
  on<K extends keyof ServerEventMap>(type: K, listener: (event: ServerEventMap[K]) => void): () => void {
    return this.template.on(type, listener);
  }
}
