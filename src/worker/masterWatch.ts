import { type Actor, createActor, fromPromise } from "xstate";
import { masterWatchEvents, masterWatchMachine } from "../../machines/masterWatch.js";
import type { PeerEvent } from "../liveness/peerCount.js";
import type { Logger } from "../logger.js";

/** How a worker follows its master to a new address. */
export interface MasterWatchOptions {
  /** How long the connection may stay down before the worker asks the master's cache again. */
  readonly graceMs: number;
  /** Asks the master's cache for its dispatch address (waiting for the cache to answer). */
  readonly lookup: () => Promise<string>;
  /** The address the worker is connected to now. */
  readonly current: () => string;
  /** Moves the worker's sockets to `address`. */
  readonly moveTo: (address: string) => void;
  readonly logger: Logger;
}

/**
 * Follows a master that comes back elsewhere: runs {@link masterWatchMachine} with the worker's cache
 * lookup and socket moves, fed by the worker's DEALER's connection events.
 */
export class MasterWatch {
  readonly #actor: Actor<typeof masterWatchMachine>;

  constructor(options: MasterWatchOptions) {
    const { lookup, current, moveTo, logger, graceMs } = options;
    const machine = masterWatchMachine.provide({
      actors: { lookup: fromPromise(() => lookup()) },
      guards: { moved: (_, { address }) => address !== "" && address !== current() },
      actions: {
        moveTo: (_, { address }) => {
          logger.info({ from: current(), to: address }, "master moved: following it");
          moveTo(address);
        },
        lookupFailed: (_, { error }) => logger.debug({ err: error }, "the master's cache did not answer"),
      },
    });
    this.#actor = createActor(machine, { input: { graceMs } }).start();
  }

  /** What the watch is doing: `connected`, `down`, `looking` or `stopped`, and its counters. */
  get snapshot() {
    const { value, context } = this.#actor.getSnapshot();
    return { state: value as string, ...context };
  }

  /** Takes the worker's DEALER's connection events. */
  peer(event: PeerEvent): void {
    if (event === "handshake") this.#actor.send(masterWatchEvents.handshake());
    else if (event === "disconnect") this.#actor.send(masterWatchEvents.disconnect());
  }

  stop(): void {
    this.#actor.send(masterWatchEvents.stop());
    this.#actor.stop();
  }
}
