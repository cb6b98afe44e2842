import type { AnyEventObject } from "xstate";
import * as zmq from "zeromq";
import type { PalmMessage } from "../message.js";
import type { PartInfo, ServerTemplate } from "../serverTemplate.js";
import { addressReleased } from "../sockets/addressReleased.js";
import { until } from "./until.js";

/** What a driver is given: the server, the part it plays the peer of, and the run's message ledger. */
export interface DriverEnvironment {
  readonly server: ServerTemplate;
  readonly part: PartInfo;
  /** New messages with unique tags, recorded as sent by the test (for the loss and duplicate check). */
  inject(count: number): PalmMessage[];
  /**
   * Records messages a peer of the test received at `sink` (a message may reach several sinks: a request
   * both at the service a REQ part asks and, answered, back at the REP part's client; but each only once).
   * @default "peer"
   */
  arrived(messages: readonly PalmMessage[], sink?: string): void;
  /** Whether every injected message arrived (so a peer may go away without taking any with it). */
  allArrived(): boolean;
  /** How long to wait for anything. */
  readonly timeoutMs: number;
}

/**
 * The test's side of one part's socket: it causes the events a path asks for that only a peer can cause
 * (a message received, a bad frame), and arranges its peer so the events that must follow do (a peer that
 * reads, so `part.sent` comes; none, so the part blocks). The router's side (deliver, pause, resume) and
 * the faults (crash, fault, exit) are caused by `testServerModel` itself.
 */
export interface PartDriver {
  /** Event types this driver causes. */
  readonly stimuli: ReadonlySet<string>;
  /** Whether it can cause `event` while the part is in `state`. @default whether it is a stimulus */
  can?(event: AnyEventObject, state: string): boolean;
  /**
   * Whether the real part being in `real` agrees with the model's `expected`, when they differ because of
   * the socket (a PUSH without a peer is at once `blocked` where the model is still `writing`).
   * @default equality
   */
  same?(expected: string, real: string): boolean;
  /** Opens the peer; `underTest` when the paths run are this part's (else it should just let things flow). */
  open(underTest: boolean): Promise<void>;
  /** Before a stimulus: `expected` are the event types that must follow it, up to the next stimulus. */
  prepare?(expected: readonly string[]): Promise<void>;
  stimulate(event: AnyEventObject): Promise<void>;
  /** After a stimulus; `seen` lists the event types the part handled since. */
  follow?(expected: readonly string[], seen: () => readonly string[]): Promise<void>;
  /** Lets everything flow again (a peer that reads), for the final loss check. */
  drain?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Thrown by a driver when the rest of a path asks for something it cannot do reliably over real sockets;
 * the path is cut short there (what it covered so far counts) and reported, not failed.
 */
export class PathNotDrivable extends Error {}

/** Builds the driver of one part for one run. */
export type PartDriverFactory = (environment: DriverEnvironment) => PartDriver;

const NO_STIMULI: ReadonlySet<string> = new Set();

/** A driver with no peer: for parts whose events come from the router and the faults alone. */
export const peerlessDriver: PartDriverFactory = () => ({
  stimuli: NO_STIMULI,
  open: async () => undefined,
  stimulate: async () => undefined,
  close: async () => undefined,
});

/** The peer of a bound PULL part (`PullService`): a PUSH socket that sends tagged messages or garbage. */
export const pullServiceDriver: PartDriverFactory = (environment) => {
  let peer: zmq.Push | undefined;
  return {
    stimuli: new Set(["part.received", "part.badFrame"]),
    // A paused part does not read: what its peer sends waits until it resumes.
    can: (_event, state) => !state.endsWith(".paused") && state.startsWith("running.ready"),
    async open() {
      peer = new zmq.Push({ linger: 0 });
      peer.connect(environment.part.address);
    },
    async stimulate(event) {
      if (event.type === "part.badFrame") await peer!.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
      else await peer!.send(environment.server.codec.encodeOne(environment.inject(1)[0]!));
    },
    async close() {
      peer?.close();
    },
  };
};

/**
 * The peer of a bound PUSH part (`PushService`): a PULL socket that reads and records what arrives, there
 * when the path needs sends to complete, and away when it needs the part to block.
 */
export const pushServiceDriver: PartDriverFactory = (environment) => {
  let peer: zmq.Pull | undefined;
  let reading: Promise<void> | undefined;
  const present = () => {
    if (peer) return;
    const socket = new zmq.Pull({ linger: 0 });
    socket.connect(environment.part.address);
    peer = socket;
    reading = (async () => {
      for await (const [frame] of socket) {
        if (frame) environment.arrived(environment.server.codec.decode(frame), "peer");
      }
    })().catch(() => undefined);
  };
  const absent = async () => {
    if (!peer) return;
    // A PUSH socket keeps routing to a peer that left until it notices (ZeroMQ says nothing when it does),
    // and drops what it queued for it: a peer that was there cannot reliably go away mid-path.
    throw new PathNotDrivable(`the peer of "${environment.part.name}" would have to leave`);
  };
  return {
    stimuli: NO_STIMULI,
    // With no peer a PUSH socket is not writable, so a send the model has `writing` is `blocked` at once.
    same: (expected, real) =>
      expected === real || (expected === "running.sending.writing" && real === "running.sending.blocked"),
    async open(underTest) {
      // Under test, the peer comes when the path first needs a send to complete.
      if (!underTest) present();
    },
    async prepare(expected) {
      if (expected.includes("part.blocked") || !expected.includes("part.sent")) await absent();
      else present();
    },
    async stimulate() {},
    async follow(expected, seen) {
      if (!expected.includes("part.sent") || peer) return;
      if (expected.includes("part.blocked")) {
        await until(
          () => (seen().includes("part.blocked") ? true : undefined),
          environment.timeoutMs,
          () => `waiting for "${environment.part.name}" to block`,
        );
      }
      present();
    },
    async drain() {
      present();
    },
    async close() {
      const socket = peer;
      peer = undefined;
      socket?.close();
      await reading;
    },
  };
};

/**
 * The peer of a bound REP part (`RepService`): a REQ socket that sends a tagged request when the path asks
 * for one and records the answer (an answer owed by a crashed instance is an error, which says so).
 */
export const repServiceDriver: PartDriverFactory = (environment) => {
  let peer: zmq.Request | undefined;
  // A REQ socket asks again only once answered: the previous answer, settled or not.
  let answered: Promise<void> = Promise.resolve();
  return {
    stimuli: new Set(["part.received", "part.badFrame"]),
    can: (_event, state) => state === "running.listening",
    async open() {
      peer = new zmq.Request({ linger: 0 });
      peer.connect(environment.part.address);
    },
    async stimulate(event) {
      const socket = peer!;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        answered,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`the peer of "${environment.part.name}" had no answer to its last request`)),
            environment.timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      // A request that is not a palm message is answered at once with an error.
      if (event.type === "part.badFrame") await socket.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
      else await socket.send(environment.server.codec.encodeOne(environment.inject(1)[0]!));
      answered = socket.receive().then(
        ([frame]) => environment.arrived(environment.server.codec.decode(frame!), "peer"),
        () => undefined,
      );
    },
    async close() {
      // An answer still owed is given up on with the socket.
      peer?.close();
    },
  };
};

/**
 * The peer of a REQ part (`ReqConnection`): a REP socket bound where the part connects, that records each
 * request and answers it with itself — at once, or, while a path tests the part, only when the path needs
 * the answer (`part.sent`), so the part waits in `awaitingPeer` as long as the path says.
 */
export const reqConnectionDriver: PartDriverFactory = (environment) => {
  let peer: zmq.Reply | undefined;
  let controlled = false;
  let allowed = 0;
  const requests: Buffer[] = [];
  let serving: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const pump = async () => {
    const socket = peer!;
    for await (const [frame] of socket) {
      environment.arrived(environment.server.codec.decode(frame!), "peer");
      requests.push(frame!);
      while (controlled && allowed === 0) await new Promise<void>((resolve) => (wake = resolve));
      if (controlled) allowed--;
      await socket.send(requests.shift()!);
    }
  };
  const release = (count: number) => {
    allowed += count;
    wake?.();
    wake = undefined;
  };
  return {
    stimuli: NO_STIMULI,
    async open() {
      peer = new zmq.Reply({ linger: 0 });
      await peer.bind(environment.part.address);
      serving = pump().catch(() => undefined);
    },
    async prepare() {
      controlled = true;
    },
    async stimulate() {},
    async follow(expected) {
      release(expected.filter((type) => type === "part.sent").length);
    },
    async drain() {
      controlled = false;
      release(1);
    },
    async close() {
      peer?.close();
      release(1);
      await serving;
      // The next run binds the same address: wait until libzmq has let it go.
      if (peer) await addressReleased(environment.part.address);
    },
  };
};

/** palm's built-in drivers, by part type. */
export const builtInDrivers: Readonly<Record<string, PartDriverFactory>> = {
  PullService: pullServiceDriver,
  PushService: pushServiceDriver,
  RepService: repServiceDriver,
  ReqConnection: reqConnectionDriver,
};
