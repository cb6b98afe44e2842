/** What a bound socket's monitor reports about its peers' connections (from ZeroMQ's socket events). */
export type PeerEvent = "accept" | "handshake" | "handshakeFailed" | "disconnect";

/**
 * Counts the peers connected to a bound socket from its monitor's events. ZeroMQ's events do not say which
 * connection they are about, so a disconnect is matched first to a connection that failed its handshake,
 * then to one still in its handshake, and only then to an established peer: when connections of several
 * kinds overlap the count can be one too high for a while, never too low, which is the safe side for its
 * two uses (a peer that does not heartbeat may be connected; a peer that held messages went away).
 */
export class PeerCount {
  #pending = 0;
  #failed = 0;
  #connected = 0;

  /**
   * Takes one monitor event; returns true when it ends an established peer's connection (the messages
   * queued for that peer are gone with it).
   */
  take(event: PeerEvent): boolean {
    switch (event) {
      case "accept":
        this.#pending++;
        return false;
      case "handshake":
        this.#pending = Math.max(0, this.#pending - 1);
        this.#connected++;
        return false;
      case "handshakeFailed":
        this.#pending = Math.max(0, this.#pending - 1);
        this.#failed++;
        return false;
      case "disconnect":
        if (this.#failed > 0) this.#failed--;
        else if (this.#pending > 0) this.#pending--;
        else if (this.#connected > 0) {
          this.#connected--;
          return true;
        }
        return false;
    }
  }

  /** Established peers connected now (possibly one too many, see the class comment). */
  get connected(): number {
    return this.#connected;
  }
}
