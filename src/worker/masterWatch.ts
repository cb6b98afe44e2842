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
 * Follows a master that comes back elsewhere. A master binds its Dispatch address on a wildcard port by
 * default, so one restarted in a new process listens on a new port: ZeroMQ would reconnect to the old one
 * forever. When the worker's connection has been down for `graceMs`, this asks the master's cache (which
 * keeps its fixed address) where the master is now, until the connection is back or the address moved.
 */
export class MasterWatch {
  readonly #options: MasterWatchOptions;
  #connected = true;
  #timer: NodeJS.Timeout | undefined;
  #looking = false;
  #stopped = false;

  constructor(options: MasterWatchOptions) {
    this.#options = options;
  }

  /** Takes the worker's DEALER's connection events. */
  peer(event: PeerEvent): void {
    if (event === "handshake") {
      this.#connected = true;
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (event === "disconnect") {
      this.#connected = false;
      if (this.#timer || this.#stopped) return;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#look();
      }, this.#options.graceMs);
      this.#timer.unref();
    }
  }

  async #look(): Promise<void> {
    if (this.#looking) return;
    this.#looking = true;
    const { lookup, current, moveTo, logger, graceMs } = this.#options;
    try {
      while (!this.#connected && !this.#stopped) {
        const address = await lookup();
        if (this.#connected || this.#stopped) return;
        if (address && address !== current()) {
          logger.info({ from: current(), to: address }, "master moved: following it");
          moveTo(address);
          return;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          timer.unref();
        });
      }
    } catch {
      // Stopped while looking.
    } finally {
      this.#looking = false;
    }
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
