import type { AnyActorLogic, AnyStateMachine } from "xstate";
import type { PartRole, RestartType } from "../machines/types.js";
import type { CacheStore } from "./cacheStore.js";
import type { Codec } from "./codec/codec.js";
import type { PeerEvent } from "./liveness/peerCount.js";
import type { Logger } from "./logger.js";
import { isMessage, type PalmMessage } from "./message.js";
import type { PeerGroup } from "./security/curveKeys.js";
import type { SocketKeeper } from "./sockets/socketKeeper.js";
import type { CurveSocketOptions } from "./sockets/socketPlan.js";
import { checkInteger, checkNumber } from "./validate.js";

/** A message and the topic it is published under (what `handleStream` returns). */
export interface StreamItem {
  readonly topic: string;
  readonly message: PalmMessage;
}

/** Whether a `handleStream` answer is a topic and a message (a `function` name and `payload` bytes). */
export function isStreamItem(value: unknown): value is StreamItem {
  if (typeof value !== "object" || value === null) return false;
  const { topic, message } = value as Partial<StreamItem>;
  return typeof topic === "string" && isMessage(message);
}

/** The hooks a part runs on the messages passing through it (pylm's part hooks). */
export interface PartHooks {
  /**
   * On an inbound part: turns one received message into zero, one or many before routing. May return a
   * promise (a worker's async function): the part then reads no more until it settles.
   */
  scatter?: (message: PalmMessage) => Iterable<PalmMessage> | Promise<Iterable<PalmMessage>>;
  /**
   * On an inbound part: names another outbound part for a message that must not take the part's route
   * (a request for another server, answered at once with an error), or `undefined` for the route.
   */
  divert?: (message: PalmMessage) => string | undefined;
  /** On an outbound part: turns one message into zero, one or many before it is sent. */
  gather?: (message: PalmMessage) => Iterable<PalmMessage>;
  /** On a publishing part: the topic a message goes out under (and the message itself, maybe changed). */
  handleStream?: (message: PalmMessage) => StreamItem;
}

/** Options every part accepts when it is registered; a part kind adds its own (see `PartDefinition.optionKeys`). */
export interface PartOptions extends PartHooks {
  /** The outbound part this part's messages (inbound) or feedback (outbound: a reroute) go to. */
  route?: string;
  /** Whether an inbound part waits for the feedback of its route and answers its peer with it. @default false */
  block?: boolean;
  /** OTP restart type. @default "permanent" */
  restart?: RestartType;
  /** Messages an outbound part queues before the router holds its feeders back. @default 20000 */
  highWater?: number;
  /** ZMQ_SNDHWM/ZMQ_RCVHWM of the part's socket. @default 1000 (libzmq's) */
  highWaterMark?: number;
  /** ZMQ_MAXMSGSIZE: larger incoming frames disconnect their peer. @default 67108864 (64 MiB) */
  maxMessageSize?: number;
  /** CURVE keys of this part's socket (servers set these for every tcp part). */
  curve?: CurveSocketOptions;
  /** Told about peers connecting to and leaving the part's bound socket (a master's worker PUSH). */
  observePeers?: (event: PeerEvent) => void;
  /**
   * Which CURVE allow-list the part's bound socket checks its peers against (a server with `curve.clients`
   * and `curve.workers`); overrides the part definition's `peers`. @default the definition's, else "clients"
   */
  peers?: PeerGroup;
  /**
   * Outbound parts this part routes to by its own decisions (a Master's delivery part feeds the Dispatch
   * part, the worker PUSH and the publisher), so their backpressure reaches the inbound parts feeding it.
   */
  feeds?: string[];
}

/**
 * The options a part's `build` and bridge read: the common ones, the part's own, and what `build` itself
 * adds (a subscriber's greeting topic).
 */
export interface RegisteredPartOptions extends PartOptions {
  /** SUB topics (`SubConnection`). @default [""] */
  subscribe?: string[];
  /** The options a particular part defines. */
  [option: string]: unknown;
}

/** What a part is built with: its place in the server and the server's shared services. */
export interface PartEnvironment {
  readonly server: string;
  readonly name: string;
  readonly address: string;
  readonly codec: Codec;
  readonly logger: Logger;
  readonly keeper: SocketKeeper;
  readonly cache: CacheStore;
  readonly options: RegisteredPartOptions;
  /** ZAP domain of the server's CURVE authenticator, when CURVE is on. */
  readonly zapDomain?: string;
  /** The server's CURVE keys for this part's socket (tcp parts of a CURVE server); the part's `curve` option wins. */
  readonly curve?: CurveSocketOptions;
  /** The server's ZMQ_MAXMSGSIZE; the part's `maxMessageSize` option wins. */
  readonly maxMessageSize?: number;
}

/**
 * A kind of part (`PullService`, `ReqConnection`, …): its classification, its pure machine, and how to
 * build the running actor (the machine with its socket bridge provided) for one registration.
 */
export interface PartDefinition<Options extends object = Record<string, unknown>> {
  readonly partType: string;
  readonly role: PartRole;
  /** Blocking parts expect their peer to answer (REP, REQ, HTTP). */
  readonly blocking: boolean;
  /** Services bind their socket; connections connect. */
  readonly service: boolean;
  /** The address scheme the part takes. */
  readonly scheme: "zmq" | "http";
  /**
   * Who the part's bound socket serves, so which CURVE allow-list checks its peers: a worker-facing part
   * declares `peers: "workers"`, the cache `"both"`. @default "clients"
   */
  readonly peers?: PeerGroup;
  /** A sentence for docs and `palm viz --list`. */
  readonly summary: string;
  /** The pure machine definition, as drawn by `palm viz`. */
  readonly machine: AnyStateMachine;
  /**
   * The option keys this part accepts besides the common `PartOptions` (typed by `Options`): registration
   * rejects any other key, naming the part and the key. @default []
   */
  readonly optionKeys?: readonly (keyof Options & string)[];
  /** The machine with its bridge provided for one registration. */
  build(environment: PartEnvironment): AnyActorLogic;
}

/**
 * What the parts of one kind share, so a part names its kind instead of repeating it: its place towards
 * the router, whether it waits for answers, whether it binds, its address scheme and its pure machine.
 * Any part definition serves as the kind of a new part.
 */
export type PartKind = Pick<PartDefinition, "role" | "blocking" | "service" | "scheme" | "machine">;

/** Checks the value of one option a part was registered with; `option` names it and its part, for the error. */
export type OptionCheck = (option: string, value: unknown) => unknown;

/** An `OptionCheck` for a whole number from `min` to `max`. */
export function integerOption(min: number, max?: number): OptionCheck {
  return (option, value) => checkInteger(option, value, min, max);
}

/** An `OptionCheck` for a number from `min` to `max`. */
export function numberOption(min: number, max?: number): OptionCheck {
  return (option, value) => checkNumber(option, value, min, max);
}

/**
 * What a part adds to its kind (see `definePart`): its summary and options, and either the socket bridge
 * its kind's machine runs (`bridge`, with `prepare` to check and complete the options) or, for a part
 * whose actor depends on its options, `build`.
 */
export interface PartSpec<Options extends object = object> {
  /** A sentence for docs and `palm viz --list`. */
  readonly summary: string;
  /** The option keys this part accepts besides the common `PartOptions`. @default [] */
  readonly optionKeys?: readonly (keyof Options & string)[];
  /** Who the part's bound socket serves (see `PartDefinition.peers`). @default "clients" */
  readonly peers?: PeerGroup;
  /** The bridge actor the kind's machine is provided with, once for every registration. */
  readonly bridge?: AnyActorLogic;
  /** Checks for the options a registration sets (its own or common ones), run before `prepare`. */
  readonly checks?: { readonly [option: string]: OptionCheck };
  /** Checks one registration's options (throwing an error that names the option) and fills in defaults. */
  readonly prepare?: (environment: PartEnvironment) => void;
  /** Builds the actor for one registration, instead of `bridge` and `prepare`. */
  readonly build?: (environment: PartEnvironment) => AnyActorLogic;
}

function checkOptions(environment: PartEnvironment, checks: NonNullable<PartSpec["checks"]>): void {
  for (const [option, check] of Object.entries(checks)) {
    const value = environment.options[option];
    if (value !== undefined) check(`${option} (part "${environment.name}")`, value);
  }
}

/** A part kind from its kind and what it adds: the kind's machine gets the part's bridge, provided once. */
function fromKind<Options extends object>(
  partType: string,
  kind: PartKind,
  spec: PartSpec<Options>,
): PartDefinition<Options> {
  const { bridge, checks, prepare, build, ...rest } = spec;
  const { role, blocking, service, scheme, machine } = kind;
  const shared = { partType, role, blocking, service, scheme, machine, ...rest };
  if (build) return { ...shared, build };
  if (!bridge) throw new TypeError(`part ${partType}: give it a bridge or a build`);
  const provided = machine.provide({ actors: { bridge } });
  return {
    ...shared,
    build: (environment) => {
      if (checks) checkOptions(environment, checks);
      prepare?.(environment);
      return provided;
    },
  };
}

/**
 * Declares a part kind; `actors/` uses it once per part. `Options` types the part's own options, and
 * `optionKeys` lists them for the check at registration. Given a whole `PartDefinition`, it is taken as
 * it is; given a part type, a `PartKind` and a `PartSpec`, the part is that kind with what the spec adds.
 *
 * @example
 * export const MyService = definePart<{ greeting?: string }>({ ..., optionKeys: ["greeting"], ... });
 * export const MyPull = definePart("MyPull", PullService, { summary: "…", bridge: myBridge });
 */
export function definePart<Options extends object = object>(
  definition: PartDefinition<Options> | string,
  kind?: PartKind,
  spec?: PartSpec<Options>,
): PartDefinition<Options> {
  if (typeof definition !== "string") return Object.freeze(definition);
  if (!kind || !spec) throw new TypeError(`part ${definition}: give its kind and spec`);
  return Object.freeze(fromKind(definition, kind, spec));
}
