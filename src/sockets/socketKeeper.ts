import { KeptSocket } from "./keptSocket.js";
import type { SocketPlan } from "./socketPlan.js";

/** A server's sockets, by part name: they outlive part restarts and close when the server stops. */
export class SocketKeeper {
  readonly #sockets = new Map<string, KeptSocket>();

  /** The part's socket, opened on first use (or again after it failed or was discarded). */
  acquire(part: string, plan: SocketPlan): KeptSocket {
    const existing = this.#sockets.get(part);
    if (existing && !existing.closed) return existing;
    const kept = new KeptSocket(plan);
    this.#sockets.set(part, kept);
    return kept;
  }

  /** Closes and forgets a part's socket (it failed, or a fault was injected): the next acquire opens anew. */
  discard(part: string): void {
    this.#sockets.get(part)?.close();
    this.#sockets.delete(part);
  }

  /** The sockets open now. */
  sockets(): IterableIterator<KeptSocket> {
    return this.#sockets.values();
  }

  /** Closes every socket. */
  closeAll(): void {
    for (const kept of this.#sockets.values()) kept.close();
    this.#sockets.clear();
  }

  /**
   * Closes every socket and resolves once every bound address can be bound again (see `KeptSocket.release`);
   * `lingerMs` caps how long what is still queued may hold the process for a peer that is gone.
   */
  async releaseAll(lingerMs?: number): Promise<void> {
    const sockets = [...this.#sockets.values()];
    this.#sockets.clear();
    await Promise.all(sockets.map((kept) => kept.release(lingerMs)));
  }

  get size(): number {
    return this.#sockets.size;
  }
}
