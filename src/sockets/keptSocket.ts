import * as zmq from "zeromq";
import { PeerCount, type PeerEvent } from "../liveness/peerCount.js";
import { RateLimitedLog } from "../logger.js";
import { addressReleased } from "./addressReleased.js";
import { isPeerFault, peerFaultReason } from "./peerFault.js";
import type { SocketPlan } from "./socketPlan.js";

/** Multipart messages read in one go from a socket. */
export type FrameBatch = Buffer[][];

/** Takes a batch; a returned promise holds the next read back until it settles. */
export type BatchListener = (batch: FrameBatch) => void | Promise<void>;

/** Told about input a peer provoked that never became a message (see `isPeerFault`): counted, never fatal. */
export type BadInputListener = (count: number, reason: string) => void;

/** Reads at most this many multipart messages into one batch, so one event never grows without limit. */
const MAX_READ_BATCH = 512;
const BIND_RETRY_MS = [5, 10, 20, 50, 100, 200, 400, 800];
/** Longest pause between two tries of a publisher waiting for a slow subscriber's queue to have room. */
const PUB_RETRY_MAX_MS = 8;
/** A busy read loop lets the event loop turn (timers, other sockets) at least this often. */
const YIELD_EVERY_MS = 10;

/** The socket operations palm uses; every socket type it opens has the ones its parts call. */
type PalmSocket = zmq.Socket & {
  send(frames: Buffer | Buffer[]): Promise<void>;
  receive(): Promise<Buffer[]>;
};

/** libzmq's ZMQ_ROUTER_NOTIFY option and its ZMQ_NOTIFY_DISCONNECT flag (a draft option of zmq.h). */
const ZMQ_ROUTER_NOTIFY = 97;
const ZMQ_NOTIFY_DISCONNECT = 2;

/** A ROUTER that reads `[routing id, empty frame]` when a peer disconnects; set before it binds. */
function notifyingRouter(options: ConstructorParameters<typeof zmq.Router>[0]): zmq.Router {
  const router = new zmq.Router(options);
  // zeromq.js names no ROUTER_NOTIFY option; its generic setter is protected in the typings only.
  (router as unknown as { setInt32Option(option: number, value: number): void }).setInt32Option(
    ZMQ_ROUTER_NOTIFY,
    ZMQ_NOTIFY_DISCONNECT,
  );
  return router;
}

function createSocket(plan: SocketPlan): PalmSocket {
  return openSocket(plan) as PalmSocket;
}

function openSocket(plan: SocketPlan): zmq.Socket {
  const common: Record<string, unknown> = { linger: 2000 };
  if (plan.maxMessageSize !== undefined) common.maxMessageSize = plan.maxMessageSize;
  if (plan.highWaterMark !== undefined) {
    // zeromq.js refuses an option its socket type lacks: a PULL or SUB does not send, a PUSH does not receive.
    if (plan.kind !== "pull" && plan.kind !== "sub") common.sendHighWaterMark = plan.highWaterMark;
    if (plan.kind !== "push") common.receiveHighWaterMark = plan.highWaterMark;
  }
  if (plan.curve) {
    if (plan.curve.serverKey) {
      common.curveServerKey = plan.curve.serverKey;
      common.curvePublicKey = plan.curve.publicKey;
      common.curveSecretKey = plan.curve.secretKey;
    } else {
      common.curveServer = true;
      common.curveSecretKey = plan.curve.secretKey;
      // Fail closed: with no ZAP handler answering, libzmq refuses CURVE peers instead of letting them in.
      if (plan.zapDomain) common.zapEnforceDomain = true;
    }
  }
  if (plan.zapDomain) common.zapDomain = plan.zapDomain;
  const options = { ...common, ...plan.options };
  switch (plan.kind) {
    case "pull":
      return new zmq.Pull(options);
    case "push":
      return new zmq.Push(options);
    case "pub":
      // An XPUB, so the server sees subscriptions (and greets palm clients, see PubService); it blocks at
      // the high-water mark instead of dropping silently as pylm's PUB did.
      return new zmq.XPublisher({ noDrop: true, ...options });
    case "sub":
      // A SUB only ever queues subscriptions, re-sent on each reconnect: waiting to deliver them to a
      // publisher that is gone would only hold the process for the linger period when it exits.
      return new zmq.Subscriber({ ...options, linger: 0 });
    case "rep":
      // A ROUTER that keeps each request's envelope for its reply: palm reads REQ envelopes itself, so a
      // malformed one is counted as bad input and dropped. A libzmq REP drops it inside the receive (EAGAIN),
      // and after one from a peer already gone it may swallow the next reply, leaving a REQ client waiting.
      return new zmq.Router(options);
    case "req":
      return new zmq.Request(options);
    case "router":
      return plan.notifyDisconnect ? notifyingRouter(options) : new zmq.Router(options);
    case "dealer":
      return new zmq.Dealer(options);
  }
}

const HANDSHAKE_FAILURES = [
  "handshake:error:protocol",
  "handshake:error:auth",
  "handshake:error:other",
] as const;

/** Reports a socket's peer connections from its monitor; a throwing observer is not allowed to break it. */
function observePeers(socket: zmq.Socket, report: (event: PeerEvent) => void): void {
  const tell = (event: PeerEvent) => () => {
    try {
      report(event);
    } catch {
      // The observer's own problem: the socket goes on.
    }
  };
  const events = socket.events;
  events.on("accept", tell("accept"));
  events.on("handshake", tell("handshake"));
  for (const type of HANDSHAKE_FAILURES) events.on(type, tell("handshakeFailed"));
  events.on("disconnect", tell("disconnect"));
}

function isAddressInUse(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === "EADDRINUSE";
}

/**
 * A part's socket, kept by the server across restarts of the part: a restarted part re-attaches to it,
 * so neither the messages queued in it nor its peers' connections are lost. The socket is read by one
 * loop that hands batches to whoever is attached and holds them while nobody is.
 */
export class KeptSocket {
  readonly plan: SocketPlan;
  readonly socket: PalmSocket;
  /** Resolves once the socket is bound or connected; rejects with the socket error otherwise. */
  readonly ready: Promise<void>;
  /** Set once a greeting proved this SUB socket's subscriptions live (it survives part restarts). */
  greeted = false;
  /**
   * Rate-limits the part's log lines about bad input to one per 10 s; kept with the socket across restarts.
   * @internal
   */
  readonly badInputLog = new RateLimitedLog();
  /**
   * Set on a publisher that announces its presence to palm clients (see `PubService`): the instance it
   * names lives as long as the socket, so it changes with every start of the server, not with part restarts.
   */
  presence: { readonly server: string; readonly instance: string } | undefined;
  /**
   * Told, when the plan observes peers, how many are connected after each monitor event and whether an
   * established one just left; set by the part attached now (a master's worker PUSH tells its delivery part).
   */
  onPeers: ((connected: number, left: boolean) => void) | undefined;
  #listener: BatchListener | undefined;
  #onError: ((error: unknown) => void) | undefined;
  #onBad: BadInputListener | undefined;
  /** Bad input seen while no listener was attached, reported to the next one. */
  #unreportedBad = 0;
  #unreportedReason = "";
  #held: Buffer[][] = [];
  /** A REP's request being answered: the envelope (routing id, route frames, empty delimiter) of its reply. */
  #envelope: Buffer[] | undefined;
  #paused = false;
  #reading = false;
  #oneAtATime: boolean;
  #failure: unknown;
  #sending: Promise<void> | undefined;
  #peers: PeerCount | undefined;
  #bound = false;

  constructor(plan: SocketPlan) {
    this.plan = plan;
    this.socket = createSocket(plan);
    this.#oneAtATime = plan.kind === "rep";
    if (plan.kind === "sub") {
      const socket = this.socket as unknown as zmq.Subscriber;
      for (const topic of plan.subscribe ?? [""]) socket.subscribe(topic);
    }
    if (plan.observePeers) {
      // Counted here too: a spreading writer cuts a burst into one frame per connected peer.
      const observe = plan.observePeers;
      const peers = new PeerCount();
      this.#peers = peers;
      observePeers(this.socket, (event) => {
        const left = peers.take(event);
        observe(event);
        this.onPeers?.(peers.connected, left);
      });
    }
    this.ready = this.#open();
    // The failure is reported through `ready` to whoever attaches; never leave it unhandled.
    this.ready.catch(() => undefined);
  }

  async #open(): Promise<void> {
    if (!this.plan.bind) {
      this.socket.connect(this.plan.address);
      return;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.socket.bind(this.plan.address);
        this.#bound = true;
        return;
      } catch (error) {
        // A socket closed a moment ago may still hold the port: try again briefly, then give up.
        const wait = BIND_RETRY_MS[attempt];
        if (!isAddressInUse(error) || wait === undefined || this.socket.closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /**
   * Starts handing received batches to `listener` (first those held meanwhile). `onError` hears of a local
   * socket failure (the part fails); `onBad` of peer-provoked receive errors, which never stop the reading.
   */
  attach(listener: BatchListener, onError: (error: unknown) => void, onBad?: BadInputListener): void {
    this.#listener = listener;
    this.#onError = onError;
    this.#onBad = onBad;
    if (this.#failure !== undefined) {
      onError(this.#failure);
      return;
    }
    if (this.#unreportedBad > 0 && onBad) {
      const count = this.#unreportedBad;
      this.#unreportedBad = 0;
      onBad(count, this.#unreportedReason);
    }
    if (this.#held.length > 0) {
      const held = this.#held;
      this.#held = [];
      if (this.#oneAtATime) {
        // A REP holds at most one request: it reads no other before it answered.
        const body = this.#openRequest(held[0]!);
        if (body) {
          listener([body]);
          return;
        }
      } else listener(held);
    }
    this.#pump();
  }

  /** Stops handing batches out; what arrives meanwhile is held for the next listener. */
  detach(): void {
    this.#listener = undefined;
    this.#onError = undefined;
    this.#onBad = undefined;
  }

  /** Stops reading (backpressure, or a REP socket that owes a reply); the socket's own queue fills. */
  pause(): void {
    this.#paused = true;
  }

  /** Reads again after `pause()`. */
  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  /**
   * Sends one multipart message. zeromq.js allows one pending send per socket: a part's machine
   * serialises its own sends, and this chain keeps a restarted part from overlapping its predecessor's.
   */
  send(frames: Buffer | Buffer[]): Promise<void> {
    if (this.#oneAtATime) {
      // A REP's reply goes back in its request's envelope (to a peer gone since, ZeroMQ drops it).
      const envelope = this.#envelope;
      if (!envelope) return Promise.reject(new Error("a REP reply with no request to answer"));
      this.#envelope = undefined;
      frames = [...envelope, ...(Array.isArray(frames) ? frames : [frames])];
    }
    if (!this.#sending) {
      const sent = this.#sendOne(frames);
      this.#sending = sent;
      return sent.finally(() => {
        if (this.#sending === sent) this.#sending = undefined;
      });
    }
    const sent = this.#sending.then(
      () => this.#sendOne(frames),
      () => this.#sendOne(frames),
    );
    this.#sending = sent;
    return sent.finally(() => {
      if (this.#sending === sent) this.#sending = undefined;
    });
  }

  #sendOne(frames: Buffer | Buffer[]): Promise<void> {
    const sent = this.socket.send(frames);
    return this.plan.kind === "pub" ? sent.catch((error) => this.#sendWhenRoom(frames, error)) : sent;
  }

  /**
   * An XPUB with ZMQ_XPUB_NODROP refuses a message with EAGAIN while a matching subscriber's queue is full,
   * yet always reports itself writable, so zeromq.js rejects instead of waiting: wait here (polling, as no
   * event says when there is room again) until the message goes, so a slow subscriber slows its publisher
   * down and loses nothing.
   */
  async #sendWhenRoom(frames: Buffer | Buffer[], error: unknown): Promise<void> {
    for (let wait = 1; ; wait = Math.min(wait * 2, PUB_RETRY_MAX_MS)) {
      if ((error as { code?: string } | undefined)?.code !== "EAGAIN" || this.socket.closed) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        await this.socket.send(frames);
        return;
      } catch (next) {
        error = next;
      }
    }
  }

  /** Peers connected to this (bound) socket when its plan observes them (`observePeers`); else undefined. */
  get peers(): number | undefined {
    return this.#peers?.connected;
  }

  /**
   * Receives one multipart message directly (sockets that are never pumped: REQ, a PushPullService's PULL);
   * what a peer provoked (see `isPeerFault`) is reported to `onBad` and the wait goes on.
   */
  async receive(onBad?: BadInputListener): Promise<Buffer[]> {
    for (;;) {
      try {
        return await this.socket.receive();
      } catch (error) {
        if (!this.#isPeerFault(error)) throw error;
        onBad?.(1, peerFaultReason(error, "receive"));
      }
    }
  }

  /**
   * Receives one multipart message for the read loop, or `undefined` when the receive failed because of
   * a peer (reported as bad input): libzmq dropped its message, the socket is fine and reading goes on.
   */
  async #receiveOne(): Promise<Buffer[] | undefined> {
    try {
      return await this.socket.receive();
    } catch (error) {
      if (!this.#isPeerFault(error)) throw error;
      this.#reportBad(peerFaultReason(error, "receive"));
      return undefined;
    }
  }

  /** A receive error a peer provoked, on a socket still open and without a receive timeout (whose EAGAIN it is). */
  #isPeerFault(error: unknown): boolean {
    if (this.socket.closed || !isPeerFault(error, this.plan.kind, "receive")) return false;
    const timeout = (this.socket as { receiveTimeout?: number }).receiveTimeout;
    return timeout === undefined || timeout < 0;
  }

  /**
   * A REP request's body, its envelope kept for the reply; `undefined` (counted as bad input) when the
   * envelope has no empty delimiter or no body follows it, as from a DEALER or raw peer that skips it.
   */
  #openRequest(frames: Buffer[]): Buffer[] | undefined {
    let bottom = 1;
    while (bottom < frames.length && frames[bottom]!.length > 0) bottom++;
    if (bottom >= frames.length - 1) {
      this.#reportBad(
        bottom >= frames.length ? "malformed envelope: no empty delimiter" : "a request with no body",
      );
      return undefined;
    }
    this.#envelope = frames.slice(0, bottom + 1);
    return frames.slice(bottom + 1);
  }

  #reportBad(reason: string): void {
    const onBad = this.#onBad;
    if (onBad) {
      try {
        onBad(1, reason);
      } catch {
        // Counting bad input must not stop the reading.
      }
      return;
    }
    this.#unreportedBad++;
    this.#unreportedReason = reason;
  }

  get closed(): boolean {
    return this.socket.closed;
  }

  close(): void {
    this.detach();
    if (!this.socket.closed) this.socket.close();
  }

  /**
   * Closes the socket and resolves once its bound address can be bound again (see `addressReleased`);
   * pending messages still get the socket's linger, cut to `lingerMs` when given.
   */
  async release(lingerMs?: number): Promise<void> {
    const endpoint = this.#bound ? (this.socket.lastEndpoint ?? this.plan.address) : undefined;
    const binding = this.plan.bind && !this.#bound && !this.socket.closed;
    if (lingerMs !== undefined && !this.socket.closed)
      this.socket.linger = Math.min(this.socket.linger, lingerMs);
    this.close();
    if (endpoint) await addressReleased(endpoint);
    else if (binding) {
      // A bind under way when the socket closed may still take the address: wait until it is given back.
      await this.ready.catch(() => undefined);
      if (this.#bound && !this.plan.address.includes("*")) await addressReleased(this.plan.address);
    }
  }

  #pump(): void {
    if (this.#reading || this.#paused || !this.#listener || this.socket.closed) return;
    void this.#read();
  }

  async #read(): Promise<void> {
    this.#reading = true;
    let yielded = Date.now();
    try {
      while (this.#listener && !this.#paused && !this.socket.closed) {
        // A socket that always has something to read resolves every receive at once, in microtasks, which
        // would starve timers (a worker's heartbeat, a master's liveness sweep) and other sockets' I/O.
        if (Date.now() - yielded >= YIELD_EVERY_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          yielded = Date.now();
          if (!this.#listener || this.#paused || this.socket.closed) break;
        }
        const first = await this.#receiveOne();
        if (first === undefined) continue;
        const batch: FrameBatch = [first];
        if (!this.#oneAtATime) {
          while (batch.length < MAX_READ_BATCH && this.socket.readable) {
            const next = await this.#receiveOne();
            if (next === undefined) break;
            batch.push(next);
          }
        }
        const listener = this.#listener;
        if (this.#oneAtATime) {
          if (!listener) {
            this.#held.push(first);
            this.#paused = true;
            continue;
          }
          const body = this.#openRequest(first);
          if (!body) continue;
          this.#paused = true;
          batch[0] = body;
        }
        if (listener) {
          const busy = listener(batch);
          if (busy) await busy;
        } else for (const frames of batch) this.#held.push(frames);
      }
    } catch (error) {
      if (!this.socket.closed) {
        this.#failure = error;
        this.#onError?.(error);
      }
    } finally {
      this.#reading = false;
    }
  }
}
