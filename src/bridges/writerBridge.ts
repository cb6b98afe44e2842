import { randomUUID } from "node:crypto";
import { partEvents } from "../../machines/events.js";
import type { Delivery } from "../../machines/types.js";
import { describeError, describeValue, PalmError } from "../errors.js";
import type { PalmMessage } from "../message.js";
import { isStreamItem, type PartEnvironment } from "../part.js";
import type { KeptSocket } from "../sockets/keptSocket.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { STREAM_HELLO_PREFIX } from "../streams/protocol.js";
import { badInputReporter } from "./badInput.js";
import { bridgeActor } from "./bridgeActor.js";
import { frameChunks } from "./frameChunks.js";
import { applyHook } from "./frames.js";
import {
  DEFAULT_HEARTBEAT_MS,
  onUpstreamChange,
  PRESENCE_HELLO_PREFIX,
  PRESENCE_TOPIC,
  presenceFrame,
  upstreamOf,
} from "./presence.js";
import type { StreamFollowers } from "./streamServiceBridge.js";

/** Sends one multipart message, or refuses once the bridge is closed (its part crashed or stopped). */
type SendFrame = (frames: Buffer | Buffer[]) => Promise<void>;

/** At most this many messages go into one frame, so a deep queue becomes several moderate frames. */
const MAX_FRAME_MESSAGES = 256;
/**
 * A part with the `spread` option (the master's `WorkerPushService`) cuts a batch into one frame per peer
 * its socket counts (at most this many; this many when it counts none), so PUSH's round robin deals a
 * burst out to every worker instead of one.
 */
const SPREAD_FRAMES = 16;

/** How many messages one frame of a batch of `count` carries. */
function frameSize(environment: PartEnvironment, kept: KeptSocket, count: number): number {
  if (environment.options.spread !== true) return MAX_FRAME_MESSAGES;
  // One frame per connected worker: each gets its share of the burst, and no more frames than that.
  const frames = Math.min(SPREAD_FRAMES, Math.max(1, kept.peers ?? SPREAD_FRAMES));
  return Math.min(MAX_FRAME_MESSAGES, Math.max(1, Math.ceil(count / frames)));
}

function collect(deliveries: readonly Delivery[]): PalmMessage[] {
  if (deliveries.length === 1) return deliveries[0]!.messages;
  const out: PalmMessage[] = [];
  for (const delivery of deliveries) for (const message of delivery.messages) out.push(message);
  return out;
}

async function sendPlain(
  sendFrame: SendFrame,
  environment: PartEnvironment,
  kept: KeptSocket,
  messages: PalmMessage[],
): Promise<void> {
  const { codec } = environment;
  if (!codec.batches) {
    for (const message of messages) await sendFrame(codec.encodeOne(message));
    return;
  }
  for (const chunk of frameChunks(messages, frameSize(environment, kept, messages.length))) {
    for (const frame of codec.encode(chunk)) await sendFrame(frame);
  }
}

async function sendTopics(
  sendFrame: SendFrame,
  environment: PartEnvironment,
  messages: PalmMessage[],
  handleStream: NonNullable<PartEnvironment["options"]["handleStream"]>,
  divert: ((topic: string, messages: PalmMessage[]) => boolean) | undefined,
): Promise<{ failure: PalmError; failed: number } | undefined> {
  const { codec } = environment;
  // Consecutive messages with the same topic share a frame; the topic is the first frame (pylm's shape).
  let topic: string | undefined;
  let group: PalmMessage[] = [];
  const flush = async () => {
    if (group.length === 0 || topic === undefined) return;
    // A palm client with a result stream of its own gets them there (see StreamService).
    if (divert?.(topic, group)) {
      group = [];
      return;
    }
    const head = Buffer.from(topic);
    if (codec.batches) {
      for (const chunk of frameChunks(group, MAX_FRAME_MESSAGES)) {
        for (const frame of codec.encode(chunk)) await sendFrame([head, frame]);
      }
    } else {
      for (const message of group) await sendFrame([head, codec.encodeOne(message)]);
    }
    group = [];
  };
  // A message the hook fails on costs only itself: the others are published, then the part fails.
  let failure: PalmError | undefined;
  let failed = 0;
  for (const message of messages) {
    let item: unknown;
    try {
      item = handleStream(message);
    } catch (error) {
      failed++;
      failure ??= streamHookError(message, `threw ${describeError(error)}`, error);
      continue;
    }
    if (!isStreamItem(item)) {
      failed++;
      failure ??= streamHookError(
        message,
        `returned ${describeValue(item)}: it must return { topic, message }`,
      );
      continue;
    }
    if (item.topic !== topic) {
      await flush();
      topic = item.topic;
    }
    group.push(item.message);
  }
  await flush();
  return failure === undefined ? undefined : { failure, failed };
}

/** A `handleStream` hook that failed on `message`: the message is not published (a `PALM_ERR_PART_HOOK`). */
function streamHookError(message: PalmMessage, what: string, cause?: unknown): PalmError {
  const text = `The handleStream hook ${what} for message ${message.id ?? "(no id)"} (${message.function}); the message was not published`;
  return new PalmError("PALM_ERR_PART_HOOK", text, cause === undefined ? undefined : { cause });
}

/** The following servers with a topic prefix `topic` starts with, or undefined when none has. */
function followersOf(followers: StreamFollowers, topic: string): string[] | undefined {
  let found: string[] | undefined;
  for (const [id, follower] of followers) {
    if (!follower.topics.some((prefix) => topic.startsWith(prefix))) continue;
    found ??= [];
    found.push(id);
  }
  return found;
}

/** Topics starting with this are greetings: a subscriber that subscribes to one is answered at once. */
export const HELLO_PREFIX = "~palm-hello:";
const EMPTY = Buffer.alloc(0);

/**
 * Answers a subscription to a greeting topic with one message under that topic: empty, or the server's
 * presence for a `PRESENCE_HELLO_PREFIX` topic, or its `Streams` part's address for a `STREAM_HELLO_PREFIX`
 * one (empty when it has none). A palm client subscribes to its own topic and then to a
 * greeting topic; the greeting's arrival proves both subscriptions are live, so its first message cannot
 * be lost to a slow join (pylm's `eval` hang).
 */
function greet(
  kept: KeptSocket,
  presence: () => Buffer,
  streams: () => Buffer,
  onBad: (count: number) => void,
) {
  return (batch: Buffer[][]) => {
    let bad = 0;
    for (const frames of batch) {
      const frame = frames[0];
      // Subscribers send (un)subscriptions, one frame starting with 1 or 0; anything else is bad input.
      if (!frame || frames.length !== 1 || frame.length === 0 || frame[0]! > 1) {
        bad++;
        continue;
      }
      if (frame[0] !== 1) continue;
      const topic = frame.subarray(1);
      const text = topic.toString("latin1");
      if (!text.startsWith(HELLO_PREFIX)) continue;
      const payload = text.startsWith(PRESENCE_HELLO_PREFIX)
        ? presence()
        : text.startsWith(STREAM_HELLO_PREFIX)
          ? streams()
          : EMPTY;
      kept.send([topic, payload]).catch(() => undefined);
    }
    if (bad > 0) onBad(bad);
  };
}

/**
 * The bridge of a non-blocking outbound part (PUSH, PUB): performs the sends its machine asks for, one at
 * a time, after `gather`; PUB parts publish under the topic `handleStream` gives. Reports `part.blocked`
 * when the socket is at its high-water mark and `part.sent` when the batch is handed to ZeroMQ.
 */
export function createWriterBridge(plan: (environment: PartEnvironment) => SocketPlan) {
  return bridgeActor((environment, send, receive) => {
    const { keeper, name, options } = environment;
    const kept = keeper.acquire(name, plan(environment));
    let open = true;
    let ready = false;
    // A publisher that greets palm clients also tells them it is alive (see PRESENCE_TOPIC); the instance
    // belongs to the socket, so it stays the same across restarts of this part.
    const heartbeatMs = typeof options.heartbeatMs === "number" ? options.heartbeatMs : DEFAULT_HEARTBEAT_MS;
    if (options.greet && options.handleStream && !kept.presence) {
      kept.presence = { server: environment.server, instance: randomUUID() };
    }
    // A following server names the servers before it too (see `Presence.upstream`).
    const presence = () =>
      kept.presence
        ? presenceFrame({
            ...kept.presence,
            state: "alive",
            periodMs: heartbeatMs,
            upstream: upstreamOf(keeper),
          })
        : EMPTY;
    const presenceTopic = Buffer.from(PRESENCE_TOPIC);
    const streamAddress = options.streamAddress as { resolved: string | undefined } | undefined;
    const streamsAt = () => (streamAddress?.resolved ? Buffer.from(streamAddress.resolved) : EMPTY);
    let beating = false;
    const beat = () => {
      // A heartbeat still waiting for a stuck subscriber's room is enough: they never pile up.
      if (!open || !ready || beating || !kept.presence) return;
      beating = true;
      kept
        .send([presenceTopic, presence()])
        .catch(() => undefined)
        .finally(() => {
          beating = false;
        });
    };
    const fail = (error: unknown) => {
      if (!open) return;
      send(partEvents.fault(error));
    };
    kept.ready.then(() => {
      if (!open) return;
      if (environment.options.greet) {
        const onBad = badInputReporter(kept, environment.logger, send, () => open);
        kept.attach(
          greet(kept, presence, streamsAt, (count) => onBad(count, "not a subscription")),
          fail,
          onBad,
        );
      }
      ready = true;
      send(partEvents.ready());
      // A master's worker PUSH tells its delivery part how many pylm workers it can reach.
      const peersTo = environment.options.peersTo;
      if (typeof peersTo === "string" && kept.peers !== undefined) {
        const tell = (connected: number, left: boolean) => {
          if (open) send(partEvents.received([], peersTo, { type: "peers", connected, left }));
        };
        kept.onPeers = tell;
        tell(kept.peers, false);
      }
    }, fail);
    // A publisher beside a `Streams` part hands that part the results of clients with an open stream.
    const streamClients = options.streamClients as ReadonlyMap<string, number> | undefined;
    const streamsPart = options.streamsPart;
    const followers = options.streamFollowers as StreamFollowers | undefined;
    const divert =
      streamClients && typeof streamsPart === "string"
        ? (topic: string, messages: PalmMessage[]) => {
            if (streamClients.has(topic)) {
              if (open) send(partEvents.received(messages, streamsPart, { topic }));
              return true;
            }
            // Palm servers following these results get them over their own streams too; pylm subscribers
            // (and palm ones that found no stream) still read them on the PUB.
            const following = followers && followers.size > 0 ? followersOf(followers, topic) : undefined;
            if (following && open)
              send(partEvents.received(messages, streamsPart, { topic, followers: following }));
            return false;
          }
        : undefined;
    // Whether the send under way has yet to look at the socket: one whose messages all go elsewhere (to
    // palm clients' own result streams) never asks it (a call into libzmq).
    let unchecked = false;
    const sendFrame: SendFrame = (frames) => {
      if (!open) return Promise.reject(new Error("the part stopped while sending"));
      if (unchecked) {
        unchecked = false;
        // At its high-water mark: the machine shows the part blocked until this send completes.
        if (!kept.socket.writable) send(partEvents.blocked());
      }
      return kept.send(frames);
    };
    const perform = async (deliveries: Delivery[]) => {
      const seq = deliveries[deliveries.length - 1]!.seq;
      const messages = applyHook(collect(deliveries), options.gather, "gather");
      unchecked = true;
      let failed: Awaited<ReturnType<typeof sendTopics>>;
      if (options.handleStream)
        failed = await sendTopics(sendFrame, environment, messages, options.handleStream, divert);
      else await sendPlain(sendFrame, environment, kept, messages);
      if (open) send(partEvents.sent(seq, messages.length - (failed?.failed ?? 0)));
      // Sent (the deliveries are done with): a restart does not hand the part the failing message again.
      if (failed) fail(failed.failure);
    };
    receive((command) => {
      if (command.type === "bridge.send") perform(command.deliveries).catch(fail);
      else if (command.type === "bridge.heartbeat") beat();
    });
    // A chain of servers before this one named anew is said at once (see `onUpstreamChange`).
    const unwatch = kept.presence ? onUpstreamChange(keeper, beat) : undefined;
    return () => {
      open = false;
      unwatch?.();
      kept.onPeers = undefined;
    };
  });
}
