import { outboundPartMachine } from "../../machines/outboundPart.js";
import { DEFAULT_HEARTBEAT_MS } from "../../src/bridges/presence.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { createWriterBridge } from "../../src/bridges/writerBridge.js";
import { invalidOption } from "../../src/errors.js";
import type { PalmMessage } from "../../src/message.js";
import { definePart, type PartEnvironment, type StreamItem } from "../../src/part.js";
import type { SocketPlan } from "../../src/sockets/socketPlan.js";
import { services } from "../partKinds.js";

/**
 * pylm's default `handle_stream`: publish under the client's id, or — when the server is pipelined —
 * under the server's own name with the stage moved on by one, for the next server to subscribe to.
 */
export function defaultHandleStream(
  server: string,
  pipelined: boolean,
): (message: PalmMessage) => StreamItem {
  if (!pipelined) return (message) => ({ topic: message.client, message });
  return (message) => ({ topic: server, message: { ...message, stage: message.stage + 1 } });
}

/** Options PubService reads from its registration, besides the common part options. */
export interface PubServiceOptions {
  /** Publish under the server's name for the next stage (pylm's pipelined servers). @default false */
  pipelined?: boolean;
  /** Answer palm subscribers' greetings, so none joins late. @default true */
  greet?: boolean;
  /** How often a greeting publisher tells palm clients the server is alive (ms; 0: never). @default 1000 */
  heartbeatMs?: number;
  /**
   * The palm clients with a result stream of their own (see `StreamService`): their results go to the
   * part named by `streamsPart` instead of the PUB, and the PUB (unless `pipelined`) drops at the high-water
   * mark as pylm's does, so a subscriber that stops reading holds back nobody.
   */
  streamClients?: ReadonlyMap<string, number>;
  /** The `StreamService` part `streamClients`' results go to. */
  streamsPart?: string;
  /** Block at the high-water mark even beside a `Streams` part (as alone): pylm clients lose nothing. @default false */
  noDrop?: boolean;
}

const bridge = createWriterBridge(socketPlan("pub", true));
const pubPlan = socketPlan("pub", true);
// Beside a `Streams` part, a non-pipelined PUB carries only what pylm clients and raw subscribers read.
const droppingBridge = createWriterBridge((environment) => ({
  ...pubPlan(environment),
  options: { noDrop: false } as unknown as SocketPlan["options"],
}));
const quiet = outboundPartMachine.provide({ actors: { bridge } });

/**
 * Binds a PUB socket and publishes what the router hands it as two frames, [topic, message], the topic
 * from `handleStream` (pylm's `PubService`). Alone (or `pipelined`) it blocks at the high-water mark instead
 * of dropping (ZMQ_XPUB_NODROP); beside a `Streams` part (`streamClients`) palm clients' results go there,
 * and the PUB drops at the high-water mark as pylm's does (unless `noDrop`). It greets palm subscribers
 * so none joins late. A greeting publisher also tells palm clients it is alive every `heartbeatMs` (default 1000; 0: never) and that it stops, under a
 * topic of palm's own that pylm subscribers never see (`PRESENCE_TOPIC`). Options: `pipelined`,
 * `handleStream`, `greet`, `heartbeatMs`, `streamClients`, `streamsPart`, `noDrop`.
 */
export const PubService = definePart<PubServiceOptions>("PubService", services.outbound, {
  optionKeys: ["pipelined", "greet", "heartbeatMs", "streamClients", "streamsPart", "noDrop"],
  summary: "Binds a PUB socket and publishes under the topic handleStream gives (pylm's `PubService`).",
  build: (environment: PartEnvironment) => {
    // The writer bridge publishes whenever a handleStream hook is set; give it pylm's default.
    if (!environment.options.handleStream) {
      environment.options.handleStream = defaultHandleStream(
        environment.server,
        environment.options.pipelined === true,
      );
    }
    environment.options.greet = environment.options.greet ?? true;
    const { heartbeatMs = DEFAULT_HEARTBEAT_MS } = environment.options;
    if (typeof heartbeatMs !== "number" || !Number.isInteger(heartbeatMs) || heartbeatMs < 0) {
      throw invalidOption("heartbeatMs", "a whole number of milliseconds, 0 or more", heartbeatMs);
    }
    const { streamClients, pipelined, noDrop } = environment.options;
    const dropping = streamClients !== undefined && pipelined !== true && noDrop !== true;
    if (!environment.options.greet || heartbeatMs === 0) {
      return dropping ? outboundPartMachine.provide({ actors: { bridge: droppingBridge } }) : quiet;
    }
    return outboundPartMachine.provide({
      actors: { bridge: dropping ? droppingBridge : bridge },
      guards: { heartbeats: () => true },
      delays: { heartbeat: heartbeatMs },
    });
  },
});
