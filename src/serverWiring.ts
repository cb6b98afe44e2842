import type { InspectionEvent } from "xstate";
import type { RouterEmitted, RouterPartSpec } from "../machines/router.js";
import type { CacheStore } from "./cacheStore.js";
import type { Codec } from "./codec/index.js";
import { PalmError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { PartEnvironment } from "./part.js";
import type { Registration } from "./partRegistry.js";
import type { CurveServerOptions } from "./security/curveKeys.js";
import { peerZapDomain } from "./security/zapHandler.js";
import { errorText, stateName } from "./serverEvents.js";
import type { SocketKeeper } from "./sockets/socketKeeper.js";
import type { CurveSocketOptions } from "./sockets/socketPlan.js";

/** What every part of one server shares at start-up. @internal */
export interface ServerWiring {
  readonly server: string;
  readonly codec: Codec;
  readonly logger: Logger;
  readonly keeper: SocketKeeper;
  readonly cache: CacheStore;
  readonly maxMessageSize: number | undefined;
  readonly curve: CurveServerOptions | undefined;
  /** The ZAP domain of this start, when the server has CURVE keys. */
  readonly zapDomain: string | undefined;
}

/** The router's spec of each registered part: its environment built and its actor logic made. @internal */
export function partSpecs(registrations: readonly Registration[], wiring: ServerWiring): RouterPartSpec[] {
  return registrations.map((r) => {
    const environment: PartEnvironment = {
      server: wiring.server,
      name: r.name,
      address: r.address,
      codec: wiring.codec,
      logger: wiring.logger.child({ part: r.name }),
      keeper: wiring.keeper,
      cache: wiring.cache,
      options: r.options,
      maxMessageSize: wiring.maxMessageSize,
      curve: curveFor(r, wiring.curve),
      zapDomain: wiring.zapDomain && peerZapDomain(wiring.zapDomain, r.options.peers ?? r.part.peers),
    };
    return {
      name: r.name,
      role: r.role,
      route: r.options.route,
      block: r.options.block === true,
      restart: r.options.restart ?? "permanent",
      ...(Array.isArray(r.options.feeds) ? { feeds: r.options.feeds as string[] } : {}),
      logic: r.part.build(environment),
      input: {
        name: r.name,
        role: r.role,
        partType: r.part.partType,
        highWater: r.options.highWater,
        bridge: environment,
        ...(r.options.keep !== undefined ? { keep: r.options.keep } : {}),
      },
    };
  });
}

/** The server's CURVE keys for a registration: tcp services serve CURVE; tcp connections need `serverKey`. */
function curveFor(r: Registration, curve: CurveServerOptions | undefined): CurveSocketOptions | undefined {
  if (!curve || !r.address.startsWith("tcp://")) return undefined;
  const { publicKey, secretKey, serverKey } = curve;
  if (r.part.service) return { publicKey, secretKey };
  return serverKey ? { publicKey, secretKey, serverKey } : undefined;
}

/**
 * What observes the actors at trace level: a log line for every transition of every part. At any other
 * level nothing observes them here (an inspector subscribes itself, only while a page follows). @internal
 */
export function actorObserver(logger: Logger): ((event: InspectionEvent) => void) | undefined {
  return logger.isLevelEnabled("trace")
    ? (event: InspectionEvent) => {
        if (event.type !== "@xstate.snapshot") return;
        const snapshot = event.snapshot as { value?: unknown };
        if (snapshot.value === undefined) return;
        logger.trace(
          {
            actor: (event.actorRef as { id?: string }).id,
            event: event.event.type,
            state: stateName(snapshot.value),
          },
          "transition",
        );
      }
    : undefined;
}

/**
 * The error a server escalates with: `PALM_ERR_PART_SOCKET` when a part could not bind or connect at
 * start, else `PALM_ERR_SUPERVISOR_ESCALATED` (restart intensity exceeded, or a part failed at start).
 * @internal
 */
export function escalationError(
  server: string,
  event: Extract<RouterEmitted, { type: "server.escalated" }>,
): PalmError {
  const { part, error, reason } = event;
  if (reason === "start") {
    const socketProblem = !(error instanceof PalmError) || error.code === "PALM_ERR_PART_SOCKET";
    return new PalmError(
      socketProblem ? "PALM_ERR_PART_SOCKET" : "PALM_ERR_SUPERVISOR_ESCALATED",
      `Part "${part}" of server "${server}" could not start: ${errorText(error)}`,
      { cause: error },
    );
  }
  return new PalmError(
    "PALM_ERR_SUPERVISOR_ESCALATED",
    `Server "${server}" escalated: part "${part}" failed and ${errorText(error)}`,
    { cause: error },
  );
}
