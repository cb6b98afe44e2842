import { type Actor, createActor } from "xstate";
import { partEvents } from "../../machines/events.js";
import { type HeldFrames, resultStreamEvents, resultStreamMachine } from "../../machines/resultStream.js";
import type { Delivery } from "../../machines/types.js";
import type { PalmMessage } from "../message.js";
import type { FrameBatch } from "../sockets/keptSocket.js";
import { isPeerFault } from "../sockets/peerFault.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import {
  DEFAULT_SLOW_CONSUMER_MS,
  readStreamTag,
  readWindow,
  STREAM_CACHE_KEY,
  STREAM_RETRY_MS,
  streamTags,
} from "../streams/protocol.js";
import { badInputReporter } from "./badInput.js";
import { type BoundAddress, bridgeActor, discardOnFault, readyWhenBound } from "./bridgeActor.js";
import { siblingDispatchAddress } from "./dispatchServiceBridge.js";
import { frameChunks } from "./frameChunks.js";
import { socketPlan } from "./socketPlans.js";

const routerPlan = socketPlan("router", true);

/**
 * The palm clients whose results go over their own stream, by id, with the window each announced: shared
 * by a server's `Streams` part (which fills it from hellos) and its publisher (which sends those clients'
 * results to `Streams` instead of publishing them). Kept by the server across part restarts.
 */
export type StreamClients = Map<string, number>;

/**
 * The palm servers following this one's results over a stream of their own (see `StreamService`), by id,
 * with the window each announced and the topic prefixes it follows. Shared like `StreamClients`.
 */
export type StreamFollowers = Map<string, { readonly window: number; readonly topics: readonly string[] }>;

/**
 * What waited in clients' streams when a `Streams` part stopped, by client: kept by the server so the
 * part's restart sends it on (a crash costs the clients no results).
 */
export type HeldStreams = Map<string, readonly HeldFrames[]>;

/**
 * Where the envelope of a delivery to `Streams` names whose results they are: the client named by `topic`,
 * or, with `followers`, each of those following servers.
 */
export interface StreamEnvelope {
  readonly topic: string;
  readonly followers?: readonly string[];
}

/** The address a `Streams` part binds: a wildcard port on the publisher's host (or beside an ipc/inproc one). */
export function siblingStreamAddress(pubAddress: string): string {
  // The same rule as the Dispatch part's beside the worker PUSH: a wildcard port on the same host.
  return pubAddress.startsWith("tcp://") ? siblingDispatchAddress(pubAddress) : `${pubAddress}-streams`;
}

type Stream = Actor<typeof resultStreamMachine>;

/** The sending result of a run of frames to one client: how many went, and whether the client is gone. */
interface Sent {
  frames: number;
  messages: number;
  gone: boolean;
}

function isAgain(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === "EAGAIN";
}

/**
 * The bridge of a server's `Streams` part: a bound ROUTER (ROUTER_MANDATORY, send timeout 0) palm clients
 * connect their DEALERs to. A client's `hello` opens its stream; results the publisher hands over go to the
 * client named by the delivery's envelope. A send that finds the client's queue full (EAGAIN) is that
 * client's alone: what follows for it waits in its `resultStreamMachine`, which retries it and cuts the
 * client off past `slowConsumerMs`. Nobody else waits.
 */
export function createStreamServiceBridge() {
  return bridgeActor((environment, send, receive) => {
    const { keeper, name, logger, options, codec } = environment;
    const clients = options.streamClients as StreamClients;
    const followers = (options.streamFollowers as StreamFollowers | undefined) ?? new Map();
    const saved = (options.streamHeld as HeldStreams | undefined) ?? new Map();
    const address = options.streamAddress as BoundAddress;
    const slowConsumerMs = (options.slowConsumerMs as number | undefined) ?? DEFAULT_SLOW_CONSUMER_MS;
    const plan: SocketPlan = {
      ...routerPlan(environment),
      address: address.resolved ?? environment.address,
      // zeromq.js types socket options per socket class; the plan's are the generic socket's.
      options: { mandatory: true, sendTimeout: 0 } as unknown as SocketPlan["options"],
      // A client killed without its bye is forgotten when its connection drops, not kept for ever.
      notifyDisconnect: true,
    };
    const kept = keeper.acquire(name, plan);
    const streams = new Map<string, Stream>();
    const flushing = new Set<string>();
    let open = true;
    const onBad = badInputReporter(kept, logger, send, () => open);

    /** Sends `entries` to `client` in order until one finds its queue full or the client is gone. */
    const sendFrames = async (client: string, entries: readonly HeldFrames[]): Promise<Sent> => {
      const head = Buffer.from(client, "latin1");
      const sent: Sent = { frames: 0, messages: 0, gone: false };
      for (const entry of entries) {
        try {
          await kept.send([head, ...(entry.frames as Buffer[])]);
        } catch (error) {
          if (isAgain(error)) return sent;
          if (!isPeerFault(error, "router", "send")) throw error;
          sent.gone = true;
          return sent;
        }
        sent.frames++;
        sent.messages += entry.messages;
      }
      return sent;
    };
    const forget = (client: string, stream: Stream | undefined) => {
      clients.delete(client);
      followers.delete(client);
      stream?.send(resultStreamEvents.close());
    };
    const retry = (client: string, stream: Stream) => {
      if (!open || flushing.has(client)) return;
      const held = stream.getSnapshot().context.held;
      if (held.length === 0) return;
      flushing.add(client);
      sendFrames(client, held)
        .then((sent) => {
          if (sent.gone) forget(client, stream);
          else stream.send(resultStreamEvents.sent(sent.frames, sent.messages));
        }, fail)
        .finally(() => flushing.delete(client));
    };
    const tell = (client: string, stream: Stream, reason: string) => {
      if (!open) return;
      kept.send([Buffer.from(client, "latin1"), streamTags.cutoff, Buffer.from(reason)]).then(
        () => stream.send(resultStreamEvents.told()),
        // Full still: tried again later. Gone: nobody left to tell.
        (error) => {
          if (isPeerFault(error, "router", "send")) stream.send(resultStreamEvents.close());
        },
      );
    };
    const streamOf = (client: string, window: number, held?: readonly HeldFrames[]): Stream => {
      const existing = streams.get(client);
      if (existing && existing.getSnapshot().status === "active") return existing;
      const stream = createActor(resultStreamMachine, {
        input: { client, limit: window, slowConsumerMs, retryMs: STREAM_RETRY_MS, held },
      });
      let reason = "";
      stream.on("retry", () => retry(client, stream));
      stream.on("cutOff", (event) => {
        reason = event.reason;
        clients.delete(client);
        followers.delete(client);
        logger.warn({ client, reason }, "a slow client's result stream was cut off");
        tell(client, stream, reason);
      });
      stream.on("tell", () => tell(client, stream, reason));
      stream.subscribe({
        complete: () => {
          if (streams.get(client) === stream) streams.delete(client);
        },
      });
      streams.set(client, stream.start());
      return stream;
    };
    /** Hands `entries` to `client`'s stream: sent now while it flows, else kept behind what waits. */
    const deliverTo = async (client: string, entries: HeldFrames[]): Promise<void> => {
      const window = clients.get(client) ?? followers.get(client)?.window;
      // Cut off or gone: the client was told, or is not there to tell.
      if (window === undefined) return;
      const stream = streamOf(client, window);
      let rest = entries;
      if (stream.getSnapshot().matches("flowing") && !flushing.has(client)) {
        const sent = await sendFrames(client, entries);
        if (sent.gone) {
          forget(client, stream);
          return;
        }
        rest = entries.slice(sent.frames);
      }
      for (const entry of rest) stream.send(resultStreamEvents.full(entry));
    };
    const framesOf = (messages: PalmMessage[]): HeldFrames[] => {
      const entries: HeldFrames[] = [];
      if (!codec.batches) {
        for (const message of messages)
          entries.push({ frames: [streamTags.results, codec.encodeOne(message)], messages: 1 });
        return entries;
      }
      for (const chunk of frameChunks(messages, 256)) {
        const encoded = codec.encode(chunk);
        for (let k = 0; k < encoded.length; k++) {
          // One frame per chunk for a batching codec: the chunk's results all ride on it.
          entries.push({ frames: [streamTags.results, encoded[k]!], messages: k === 0 ? chunk.length : 0 });
        }
      }
      return entries;
    };
    const perform = async (deliveries: Delivery[]) => {
      let count = 0;
      for (const delivery of deliveries) {
        const envelope = delivery.envelope as StreamEnvelope | undefined;
        count += delivery.messages.length;
        if (typeof envelope?.topic !== "string") continue;
        const entries = framesOf(delivery.messages);
        if (!envelope.followers) await deliverTo(envelope.topic, entries);
        else for (const follower of envelope.followers) await deliverTo(follower, entries);
      }
      if (open) send(partEvents.sent(deliveries[deliveries.length - 1]!.seq, count));
    };
    const onBatch = (batch: FrameBatch): void => {
      if (!open) return;
      let bad = 0;
      for (const frames of batch) {
        const client = frames[0]!.toString("latin1");
        const tag = readStreamTag(frames[1]);
        if (frames.length === 2 && frames[1]!.length === 0) {
          // Its connection dropped (ROUTER_NOTIFY): a client that is still alive gets its results on
          // the PUB, which it subscribes to as well; a following server follows again when it reconnects.
          forget(client, streams.get(client));
        } else if (tag === "hello" && frames.length <= 3) {
          // A hello (again) opens the stream afresh: a cut-off client that reads again starts clean.
          const previous = streams.get(client);
          if (previous && !previous.getSnapshot().matches("flowing")) forget(client, previous);
          clients.set(client, readWindow(frames[2]));
          kept.send([frames[0]!, streamTags.welcome]).catch(() => undefined);
        } else if (tag === "follow" && frames.length >= 3) {
          // A following server's stream that is only full keeps what waits; a cut-off one starts clean.
          const previous = streams.get(client);
          if (previous?.getSnapshot().matches("cutOff")) forget(client, previous);
          const topics = frames.slice(3).map((topic) => topic.toString());
          followers.set(client, { window: readWindow(frames[2]), topics: topics.length > 0 ? topics : [""] });
          kept.send([frames[0]!, streamTags.welcome]).catch(() => undefined);
        } else if (tag === "bye" && frames.length === 2) {
          // A following server stopping says so (a client's bye is not worth a line: clients come and go).
          if (followers.has(client))
            logger.info({ follower: client }, "a following server stopped: its stream is dropped");
          forget(client, streams.get(client));
        } else bad++;
      }
      if (bad > 0) onBad(bad, "not a result-stream message");
    };
    const fail = discardOnFault(environment, send, () => open);
    // Published for clients, as the address of their result streams.
    readyWhenBound(kept, environment, send, () => open, {
      address,
      cacheKey: STREAM_CACHE_KEY,
      onBatch,
      onError: fail,
      onBad,
      // What waited when the part before this one stopped goes on, first, to clients still there.
      onReady: () => {
        for (const [client, held] of saved) {
          saved.delete(client);
          const window = clients.get(client) ?? followers.get(client)?.window;
          if (window !== undefined) streamOf(client, window, held);
        }
      },
    });
    receive((command) => {
      if (command.type === "bridge.send") perform(command.deliveries).catch(fail);
    });
    return () => {
      open = false;
      kept.detach();
      for (const [client, stream] of streams) {
        const snapshot = stream.getSnapshot();
        if (snapshot.status === "active" && snapshot.matches("full"))
          saved.set(client, snapshot.context.held);
        stream.stop();
      }
      streams.clear();
    };
  });
}
