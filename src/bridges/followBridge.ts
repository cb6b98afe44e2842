import { randomUUID } from "node:crypto";
import type * as zmq from "zeromq";
import { partEvents } from "../../machines/events.js";
import type { FrameBatch, KeptSocket } from "../sockets/keptSocket.js";
import type { SocketKeeper } from "../sockets/socketKeeper.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { MAX_STREAM_WINDOW, readStreamTag, streamTags } from "../streams/protocol.js";
import { badInputReporter } from "./badInput.js";
import { createBatchForwarder } from "./batchForwarder.js";
import { bridgeActor, readyGate } from "./bridgeActor.js";
import { type FollowedUpstream, UpstreamWatch } from "./followPresence.js";
import { type GreetWait, startGreetWait } from "./greetWait.js";
import { PRESENCE_HELLO_PREFIX, PRESENCE_TOPIC, settleWithin } from "./presence.js";
import { socketPlan } from "./socketPlans.js";
import { HELLO_PREFIX } from "./writerBridge.js";

/**
 * How a `SubConnection` follows its publisher, kept in its options across restarts of the part: asking the
 * publisher for its `Streams` address, reading a stream of its own there, or reading the PUB (a pylm
 * publisher, or a palm one without a `Streams` part).
 */
export interface FollowState {
  /** The routing id of this part's stream (its DEALER's). */
  readonly id: string;
  /** The topic prefixes the part follows. */
  readonly topics: readonly string[];
  /** The greeting topic asking the publisher where its `Streams` part is (the SUB is subscribed to it). */
  readonly askTopic: string;
  mode: "asking" | "stream" | "sub";
  /** Whether a publisher with a `Streams` part is read over a stream of this part's own (else its PUB). */
  readonly ownStream: boolean;
  /** The publisher's `Streams` address, once it answered with one. */
  address?: string;
  /** Whether the stream was welcomed: a restarted part is ready at once. */
  welcomed?: boolean;
  /** The greeting topic that proves the PUB subscriptions live, when the publisher has no `Streams`. */
  plainGreet?: string;
  /** The publisher's instance (and the chain before it) once heard: named in this server's presence. */
  upstream?: FollowedUpstream;
}

const subPlan = socketPlan("sub", false);
const dealerPlan = socketPlan("dealer", false);
/** Dealers whose reconnections re-send the follow request (once per socket, across part restarts). */
const watched = new WeakSet<KeptSocket>();
const presenceTopic = Buffer.from(PRESENCE_TOPIC);
/** The first byte of palm's own topics (`~`): anything else on the SUB is data. */
const PALM_TOPIC = 0x7e;

/**
 * Says `bye` on every result stream a stopping server follows a publisher over, so the publisher forgets
 * the stream at once rather than at its first failed send. Waits at most a moment for the sends.
 */
export function sayBye(keeper: SocketKeeper): Promise<void> {
  const sends: Promise<unknown>[] = [];
  for (const kept of keeper.sockets()) {
    if (watched.has(kept) && !kept.closed) sends.push(kept.send([streamTags.bye]).catch(() => undefined));
  }
  return settleWithin(sends);
}

/**
 * The bridge of a `SubConnection` that follows a palm publisher over a stream of its own: its SUB asks the
 * publisher (a greeting under `STREAM_HELLO_PREFIX`) where its `Streams` part is; given an address, a DEALER
 * there says `follow` with the part's topics and the results come over it, flow-controlled for this part
 * alone (a slow server holds back only its own stream, and loses nothing: its DEALER queues without limit
 * while the router holds the part back). A publisher that answers without an address is read over the PUB
 * (subscribed then, proven live by a second greeting), as is every publisher when the part's `ownStream`
 * is off; one that never answers within `greetTimeoutMs` (pylm, or not up yet) too. Each reconnection of
 * the stream says `follow` again.
 */
export function createFollowBridge() {
  return bridgeActor((environment, send, receive) => {
    const { keeper, name, logger, options } = environment;
    const state = options.follow as FollowState;
    const streamName = `${name}~stream`;
    const sub = keeper.acquire(name, subPlan(environment));
    const askTopic = Buffer.from(state.askTopic);
    // Asks the publisher for its presence at every connection (a SUB subscribes again when it reconnects,
    // and a palm publisher answers each time): the instance it follows is named from the start and a
    // restarted one is heard at once, not at its first heartbeat, which a short-lived instance may never send.
    const presenceAsk = Buffer.from(`${PRESENCE_HELLO_PREFIX}${state.id}`);
    let plainGreet = state.plainGreet === undefined ? undefined : Buffer.from(state.plainGreet);
    let dealer: KeptSocket | undefined;
    let open = true;
    /** The wait for the publisher's answer (or second greeting), on the actor clock: see `greetWaitMachine`. */
    let greetWait: GreetWait | undefined;
    const greetWaitMs = typeof options.greetTimeoutMs === "number" ? options.greetTimeoutMs : 3000;
    const onBad = badInputReporter(sub, logger, send, () => open);
    const deliver = createBatchForwarder(environment, send, onBad, () => open, 2);
    const gate = readyGate(send, () => open, deliver);
    const watch = new UpstreamWatch({
      keeper,
      part: name,
      state,
      subscribe: (topic) => (sub.socket as unknown as zmq.Subscriber).subscribe(topic),
      unsubscribe: (topic) => {
        if (!sub.closed) (sub.socket as unknown as zmq.Subscriber).unsubscribe(topic);
      },
      refollow: (address) => {
        if (state.mode !== "stream" || !dealer) return false;
        if (address !== state.address) {
          // A publisher restarted on a wildcard `Streams` port: its stream is somewhere else now.
          logger.info(
            { from: state.address, to: address },
            "the publisher's result stream moved: following it",
          );
          try {
            dealer.socket.disconnect(state.address!);
          } catch {
            // Not connected there (any more).
          }
          dealer.socket.connect(address);
          state.address = address;
        }
        follow(dealer);
        return true;
      },
    });
    const becomeReady = () => {
      greetWait?.met();
      gate.open();
    };
    const fail = (error: unknown) => {
      if (!open) return;
      keeper.discard(name);
      keeper.discard(streamName);
      // New sockets: the publisher is asked again.
      state.mode = "asking";
      state.welcomed = false;
      state.plainGreet = undefined;
      send(partEvents.fault(error));
    };
    const subscribeTopics = (greet: boolean) => {
      state.mode = "sub";
      const topics = [...state.topics];
      if (greet) {
        state.plainGreet = `${HELLO_PREFIX}${randomUUID()}`;
        plainGreet = Buffer.from(state.plainGreet);
        topics.push(state.plainGreet);
      }
      (sub.socket as unknown as zmq.Subscriber).subscribe(...topics);
    };
    const follow = (kept: KeptSocket) => {
      const topics = state.topics.map((topic) => Buffer.from(topic));
      kept
        .send([streamTags.follow, Buffer.from(String(MAX_STREAM_WINDOW)), ...topics])
        .catch(() => undefined);
    };
    const onStreamBatch = (batch: FrameBatch): void | Promise<void> => {
      const results: Buffer[][] = [];
      let bad = 0;
      for (const frames of batch) {
        const tag = readStreamTag(frames[0]);
        if (tag === "results" && frames.length === 2) results.push(frames);
        else if (tag === "welcome") {
          state.welcomed = true;
          watch.welcomed();
          becomeReady();
        } else if (tag === "cutoff") {
          const reason = frames[1]?.toString() ?? "cut off";
          logger.error({ reason }, "the publisher cut this server's result stream off: following again");
          if (dealer) follow(dealer);
        } else bad++;
      }
      if (bad > 0) onBad(bad, "not a result-stream message");
      return gate.take(results);
    };
    const openStream = (address: string) => {
      const plan: SocketPlan = {
        ...dealerPlan(environment),
        address,
        // Unbounded: what this server's router has not taken yet waits here, for this stream alone.
        options: { routingId: state.id, receiveHighWaterMark: 0 } as unknown as SocketPlan["options"],
      };
      const kept = keeper.acquire(streamName, plan);
      dealer = kept;
      if (!watched.has(kept)) {
        watched.add(kept);
        // A publisher restarted (or a connection renewed) knows this stream no more: follow again.
        kept.socket.events.on("handshake", () => follow(kept));
      }
      kept.ready.then(() => {
        if (!open) return;
        kept.resume();
        kept.attach(onStreamBatch, fail, onBad);
        if (state.welcomed) becomeReady();
        else follow(kept);
      }, fail);
    };
    const answered = (payload: Buffer) => {
      if (state.mode !== "asking") return;
      greetWait?.met();
      if (payload.length === 0 || !state.ownStream) {
        subscribeTopics(true);
        // The second greeting is awaited as long as the first: past that, the subscriptions go on unproven.
        greetWait = startGreetWait(greetWaitMs, () => gate.open());
        return;
      }
      state.mode = "stream";
      state.address = payload.toString();
      openStream(state.address);
    };
    const onSubBatch = (batch: FrameBatch): void | Promise<void> => {
      const data: Buffer[][] = [];
      for (const frames of batch) {
        const topic = frames[0]!;
        if (frames.length !== 2 || topic[0] !== PALM_TOPIC) data.push(frames);
        else if (askTopic.equals(topic)) answered(frames[1]!);
        else if (presenceTopic.equals(topic) || presenceAsk.equals(topic)) watch.heard(frames[1]!);
        else if (plainGreet?.equals(topic)) {
          sub.greeted = true;
          becomeReady();
        } else if (!watch.answered(topic, frames[1]!)) data.push(frames);
      }
      return gate.take(data);
    };
    sub.ready.then(() => {
      if (!open) return;
      sub.resume();
      sub.attach(onSubBatch, fail, onBad);
      (sub.socket as unknown as zmq.Subscriber).subscribe(presenceAsk);
      if (state.mode === "stream" && state.address !== undefined) openStream(state.address);
      else if (state.mode === "sub" && (plainGreet === undefined || sub.greeted)) becomeReady();
      else if (state.mode === "asking") {
        const waitMs = greetWaitMs;
        greetWait = startGreetWait(waitMs, () => {
          logger.info(
            { waitMs },
            "no greeting from the publisher (not started yet, or a pylm peer): going on",
          );
          subscribeTopics(false);
          gate.open();
        });
      }
    }, fail);
    receive((command) => {
      if (command.type === "bridge.pause") {
        sub.pause();
        dealer?.pause();
      } else if (command.type === "bridge.resume") {
        sub.resume();
        dealer?.resume();
      }
    });
    return () => {
      open = false;
      watch.close();
      greetWait?.stop();
      sub.detach();
      dealer?.detach();
    };
  });
}
