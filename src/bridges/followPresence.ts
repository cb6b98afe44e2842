import { randomUUID } from "node:crypto";
import type { SocketKeeper } from "../sockets/socketKeeper.js";
import { STREAM_HELLO_PREFIX } from "../streams/protocol.js";
import { MAX_UPSTREAM, type Presence, parsePresence, setUpstream } from "./presence.js";

/** The publisher a following part follows, as its presence last named it once it was followed. */
export interface FollowedUpstream {
  /** The publisher's instance. */
  readonly instance: string;
  /** That instance, then the instances of the servers before it (see `Presence.upstream`). */
  readonly chain: readonly string[];
}

/** What an `UpstreamWatch` works with: the following part's sockets and state. */
export interface UpstreamLinks {
  readonly keeper: SocketKeeper;
  /** The following part's name. */
  readonly part: string;
  /** Where the followed upstream is kept across restarts of the part. */
  readonly state: { upstream?: FollowedUpstream };
  /** Subscribes the part's SUB to a greeting topic. */
  subscribe(topic: string): void;
  /** Unsubscribes the part's SUB from a greeting topic. */
  unsubscribe(topic: string): void;
  /**
   * Follows the publisher anew over its stream at `address` (it may have moved): true when the part reads
   * a stream (a welcome then proves the new instance follows it), false when it reads the PUB.
   */
  refollow(address: string): boolean;
}

/**
 * Watches the presence of the publisher a following part (a `SubConnection`) follows, so the server's own
 * presence names the chain of instances before it and a palm client reading this server sees a restart of
 * any of them. A publisher heard as a new instance is followed anew before the server names it: asked for
 * its `Streams` address (a greeting under a topic of its own, whose answer also proves the SUB's
 * subscriptions live), followed there, and named once it welcomed the stream. Until then the server names
 * the old instance, so a client sends nothing again before this server reads what the new one publishes.
 * Heartbeats drive it: a part restarted meanwhile asks again at the next one.
 */
export class UpstreamWatch {
  readonly #links: UpstreamLinks;
  /** The greeting asked of a new instance, and its presence, until answered. */
  #asking: { topic: Buffer; presence: Presence } | undefined;
  /** A new instance followed anew over its stream, until it welcomes it. */
  #welcoming: Presence | undefined;
  /** Heartbeats of the new instance heard while asking or welcoming, unanswered. */
  #unanswered = 0;

  constructor(links: UpstreamLinks) {
    this.#links = links;
  }

  /** A presence frame from the publisher. */
  heard(frame: Buffer): void {
    const presence = parsePresence(frame);
    if (presence?.state !== "alive") return;
    const known = this.#links.state.upstream;
    // The first instance heard, or the same one (whose own upstream may have changed): named at once.
    if (!known || known.instance === presence.instance) {
      this.#follow(presence);
      return;
    }
    const pending = this.#asking?.presence ?? this.#welcoming;
    // A greeting, its answer or the welcome can be lost (the new instance was not yet taking them): asked
    // again at the second heartbeat of that instance heard without one.
    if (pending?.instance === presence.instance && ++this.#unanswered < 2) {
      if (this.#asking) this.#asking.presence = presence;
      else this.#welcoming = presence;
      return;
    }
    this.#ask(presence);
  }

  /** Whether `topic` is this watch's greeting; its answer (the new instance's stream address) is taken. */
  answered(topic: Buffer, payload: Buffer): boolean {
    const asking = this.#asking;
    if (!asking?.topic.equals(topic)) return false;
    this.#stopAsking();
    this.#unanswered = 0;
    if (payload.length > 0 && this.#links.refollow(payload.toString())) this.#welcoming = asking.presence;
    else this.#follow(asking.presence);
    return true;
  }

  /** The publisher welcomed this part's stream. */
  welcomed(): void {
    if (this.#welcoming) this.#follow(this.#welcoming);
  }

  /** The part stops: what it asked is let go (a restart of it asks again at the next heartbeat). */
  close(): void {
    this.#stopAsking();
    this.#welcoming = undefined;
  }

  #ask(presence: Presence): void {
    this.#stopAsking();
    this.#welcoming = undefined;
    this.#unanswered = 0;
    const topic = `${STREAM_HELLO_PREFIX}${randomUUID()}`;
    this.#asking = { topic: Buffer.from(topic), presence };
    this.#links.subscribe(topic);
  }

  #stopAsking(): void {
    if (this.#asking) this.#links.unsubscribe(this.#asking.topic.toString());
    this.#asking = undefined;
  }

  #follow(presence: Presence): void {
    this.#welcoming = undefined;
    const chain = [presence.instance, ...(presence.upstream ?? [])].slice(0, MAX_UPSTREAM);
    const { state, keeper, part } = this.#links;
    state.upstream = { instance: presence.instance, chain };
    setUpstream(keeper, part, chain);
  }
}
