import {
  createStreamServiceBridge,
  type StreamClients,
  siblingStreamAddress,
} from "../../src/bridges/streamServiceBridge.js";
import { invalidOption } from "../../src/errors.js";
import { definePart } from "../../src/part.js";
import type { ServerTemplate } from "../../src/serverTemplate.js";
import { DEFAULT_SLOW_CONSUMER_MS } from "../../src/streams/protocol.js";
import { services } from "../partKinds.js";

/** Options StreamService reads from its registration, besides the common part options. */
export interface StreamServiceOptions {
  /** The clients with an open stream, shared with the publisher that hands their results over. */
  streamClients?: StreamClients;
  /** How long a client's stream may stay full before the client is cut off (ms). @default 5000 */
  slowConsumerMs?: number;
  /** Where the part keeps its address once bound, so a restart binds the same one (set by `build`). */
  streamAddress?: { resolved: string | undefined };
}

/**
 * Binds the ROUTER palm clients open their result streams on (a server's `Streams`): the publisher hands
 * it the results of every client with an open stream, and each goes to its client alone, so a client
 * that stops reading holds back only itself and is cut off after `slowConsumerMs` with the reason logged
 * once. The bound address (a wildcard port resolved) is published in the server's cache under
 * `result_stream_address`. No pylm counterpart (pylm clients read the PUB).
 */
export const StreamService = definePart<StreamServiceOptions>("StreamService", services.outbound, {
  optionKeys: ["streamClients", "slowConsumerMs", "streamAddress"],
  summary: "Binds the ROUTER palm clients get their results over, one flow-controlled stream each.",
  bridge: createStreamServiceBridge(),
  prepare: (environment) => {
    const { options } = environment;
    const slow = options.slowConsumerMs ?? DEFAULT_SLOW_CONSUMER_MS;
    if (typeof slow !== "number" || !Number.isInteger(slow) || slow < 1) {
      throw invalidOption("slowConsumerMs", "a whole number of milliseconds, 1 or more", slow);
    }
    options.streamClients ??= new Map();
    options.streamAddress ??= { resolved: undefined };
  },
});

/** What a server's publisher is registered with so that clients with a stream get their results there. */
export interface ResultStreamLink {
  readonly streamClients: StreamClients;
  readonly streamsPart: string;
}

/**
 * Registers a `Streams` part beside a server's publisher at `pubAddress` (a wildcard port on its host) and
 * returns the options that make the publisher hand it the results of clients with an open stream.
 */
export function registerResultStreams(
  template: ServerTemplate,
  pubAddress: string,
  options: { slowConsumerMs?: number; highWaterMark?: number },
): ResultStreamLink {
  const streamClients: StreamClients = new Map();
  template.registerOutbound(StreamService, "Streams", siblingStreamAddress(pubAddress), {
    streamClients,
    slowConsumerMs: options.slowConsumerMs,
    highWaterMark: options.highWaterMark,
  });
  return { streamClients, streamsPart: "Streams" };
}
