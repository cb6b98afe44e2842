import { outboundPartMachine } from "../../machines/outboundPart.js";
import { DEFAULT_HEARTBEAT_MS } from "../../src/bridges/presence.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { createWriterBridge } from "../../src/bridges/writerBridge.js";
import { invalidOption } from "../../src/errors.js";
import type { PalmMessage } from "../../src/message.js";
import { definePart, type PartEnvironment, type StreamItem } from "../../src/part.js";

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
}

const bridge = createWriterBridge(socketPlan("pub", true));
const quiet = outboundPartMachine.provide({ actors: { bridge } });

/**
 * Binds a PUB socket and publishes what the router hands it as two frames, [topic, message], the topic
 * from `handleStream` (pylm's `PubService`). Unlike pylm it blocks at the high-water mark instead of
 * dropping (ZMQ_XPUB_NODROP), and greets palm subscribers so none joins late. A greeting publisher also
 * tells palm clients it is alive every `heartbeatMs` (default 1000; 0: never) and that it stops, under a
 * topic of palm's own that pylm subscribers never see (`PRESENCE_TOPIC`). Options: `pipelined`,
 * `handleStream`, `greet`, `heartbeatMs`.
 */
export const PubService = definePart<PubServiceOptions>({
  partType: "PubService",
  optionKeys: ["pipelined", "greet", "heartbeatMs"],
  role: "outbound",
  blocking: false,
  service: true,
  scheme: "zmq",
  summary: "Binds a PUB socket and publishes under the topic handleStream gives (pylm's `PubService`).",
  machine: outboundPartMachine,
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
    if (!environment.options.greet || heartbeatMs === 0) return quiet;
    return outboundPartMachine.provide({
      actors: { bridge },
      guards: { heartbeats: () => true },
      delays: { heartbeat: heartbeatMs },
    });
  },
});
