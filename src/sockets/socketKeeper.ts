import { randomUUID } from "node:crypto";
import { KeptSocket } from "./keptSocket.js";
import type { SocketKind, SocketPlan } from "./socketPlan.js";

/** The kinds of bound socket whose queue holds what peers sent in (a PULL, a REP's ROUTER). */
const TAKES_IN: ReadonlySet<SocketKind> = new Set(["pull", "rep"]);

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

  /**
   * Closes and forgets a part's socket (it failed, or a fault was injected): the next acquire opens anew.
   * A bound socket that peers send to takes what was queued in it along: the server's publishers then
   * name a new instance, so its palm clients send again what it has not answered, as after a restart.
   */
  discard(part: string): void {
    const kept = this.#sockets.get(part);
    if (!kept) return;
    kept.close();
    this.#sockets.delete(part);
    if (kept.plan.bind && TAKES_IN.has(kept.plan.kind)) this.#renewPresence();
  }

  /** Every publisher that tells palm clients about the server names a new instance from its next beat. */
  #renewPresence(): void {
    for (const other of this.#sockets.values()) {
      if (other.presence) other.presence = { ...other.presence, instance: randomUUID() };
    }
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
