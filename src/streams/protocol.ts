/**
 * The result-stream protocol between a server's `Streams` part (a bound ROUTER, ZMQ_ROUTER_MANDATORY) and
 * palm clients (a DEALER each, routing id = the client's id). Each client gets its results over its own
 * stream, so a client (or any subscriber) that stops reading holds back only itself.
 *
 * Every multipart message is `[tag, …body]`; on the server's ROUTER the client's routing id comes first.
 *
 * client → server
 * - `hello` `[hello, window]`: open (or reopen) this client's stream; `window` (decimal text) is how many
 *   results the client may have outstanding, which bounds what the server keeps for it.
 * - `follow` `[follow, window, …topics]`: a palm server subscribing to this one (a Pipeline, Sink or Hub, its
 *   `SubConnection`) opens (or reopens) its stream: every result published under a topic starting with one
 *   of `topics` comes over it too (as over the PUB to a SUB subscribed to them). Sent again after each
 *   reconnection; a stream still open keeps what waited in it.
 * - `bye`   `[bye]`: the client stops; the server forgets its stream.
 *
 * server → client
 * - `welcome` `[welcome]`: the stream is open; results for this client now come over it.
 * - `results` `[results, frame]`: results, one codec frame (`codec.encode`).
 * - `cutoff`  `[cutoff, reason]`: the client's stream stayed full past the server's `slowConsumerMs` (or held
 *   more than its window): what it held is dropped, and the client fails its pending calls with the reason.
 *
 * Anything else is a bad frame: counted and dropped.
 */
export type StreamTag = "hello" | "follow" | "bye" | "welcome" | "results" | "cutoff";

/** The cache key under which a server publishes its `Streams` address (beside pylm's `pub_address`). */
export const STREAM_CACHE_KEY = "result_stream_address";

/** Default of `slowConsumerMs`: how long a client's stream may stay full before it is cut off. */
export const DEFAULT_SLOW_CONSUMER_MS = 5000;

/** How long a full stream waits before the server tries it again (a delayed event on the actor clock). */
export const STREAM_RETRY_MS = 5;

/** The window a client that names none (or names one out of range) is kept to. */
export const DEFAULT_STREAM_WINDOW = 1000;

/** The largest window a server keeps results for, whatever a client asks. */
export const MAX_STREAM_WINDOW = 100_000;

/**
 * Greeting topics starting with this ask a palm publisher where its `Streams` part is: the answer's payload
 * is that address (empty when the publisher has none). pylm publishers never answer.
 */
export const STREAM_HELLO_PREFIX = "~palm-hello:>";

/** Tag frames, encoded once. */
export const streamTags: Readonly<Record<StreamTag, Buffer>> = Object.freeze({
  hello: Buffer.from("hello"),
  follow: Buffer.from("follow"),
  bye: Buffer.from("bye"),
  welcome: Buffer.from("welcome"),
  results: Buffer.from("results"),
  cutoff: Buffer.from("cutoff"),
});

/** The tag of a frame, or undefined when it is none of the protocol's. */
export function readStreamTag(frame: Uint8Array | undefined): StreamTag | undefined {
  if (!frame || frame.length < 3 || frame.length > 7) return undefined;
  const text = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("latin1");
  return text in streamTags ? (text as StreamTag) : undefined;
}

/** The window a `hello` names, kept within 1…`MAX_STREAM_WINDOW` (`DEFAULT_STREAM_WINDOW` when unreadable). */
export function readWindow(frame: Uint8Array | undefined): number {
  if (!frame || frame.length === 0 || frame.length > 12) return DEFAULT_STREAM_WINDOW;
  const value = Number(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("latin1"));
  if (!Number.isInteger(value) || value < 1) return DEFAULT_STREAM_WINDOW;
  return Math.min(value, MAX_STREAM_WINDOW);
}
