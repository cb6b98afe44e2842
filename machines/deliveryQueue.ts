/** One client's waiting ids, oldest first (from `head` on). */
interface Lane {
  readonly client: string;
  ids: string[];
  head: number;
  /** In the round (it has ids waiting). */
  active: boolean;
}

/** Lanes kept while empty (a client that comes back reuses its lane); past this, empty ones are dropped. */
const KEPT_LANES = 256;
/** A lane's array is cut down once this many of its ids were taken and they are over half of it. */
const COMPACT_AFTER = 1024;

/**
 * The ids of a master's messages waiting for a worker: those handed back (from a lost, departing or
 * stuck worker) first, in their order, then one client's after another's in turn (round-robin by the
 * message's `client`), each client's oldest first. A client with one call waiting therefore waits for
 * at most one message of each other client with work waiting, not for their backlogs. Lazily cleaned:
 * an id may have been answered (or handed out again) since it was queued, which the caller checks.
 * With one client (the common case) a push and a shift cost what an array with a head index costs.
 */
export class DeliveryQueue {
  /** Handed back: they go first. */
  #front: string[] = [];
  #frontHead = 0;
  readonly #lanes = new Map<string, Lane>();
  /** The lanes with ids waiting, in the order they take turns. */
  readonly #round: Lane[] = [];
  /** The index in `#round` of the lane whose turn it is. */
  #turn = 0;
  /** The lane pushed to last (a client's messages come in frames: one lookup per frame, mostly). */
  #last: Lane | undefined;
  #size = 0;

  /** Ids queued (some may have been answered since). */
  get length(): number {
    return this.#size;
  }

  /** Clients with ids waiting. */
  get clients(): number {
    return this.#round.length;
  }

  /** Queues `id` behind the others of `client`. */
  push(client: string, id: string): void {
    let lane = this.#last;
    if (lane === undefined || lane.client !== client) {
      lane = this.#lanes.get(client);
      if (lane === undefined) {
        if (this.#lanes.size >= KEPT_LANES) this.#dropEmptyLanes();
        lane = { client, ids: [], head: 0, active: false };
        this.#lanes.set(client, lane);
      }
      this.#last = lane;
    }
    lane.ids.push(id);
    if (!lane.active) {
      lane.active = true;
      this.#round.push(lane);
    }
    this.#size++;
  }

  /** Puts ids back ahead of everything, in their order (they waited longest). */
  pushFront(ids: readonly string[]): void {
    if (ids.length === 0) return;
    if (this.#frontHead >= ids.length) {
      this.#frontHead -= ids.length;
      for (let k = 0; k < ids.length; k++) this.#front[this.#frontHead + k] = ids[k]!;
    } else {
      this.#front = [...ids, ...this.#front.slice(this.#frontHead)];
      this.#frontHead = 0;
    }
    this.#size += ids.length;
  }

  /** The next id to hand out, or undefined if none waits. */
  shift(): string | undefined {
    if (this.#size === 0) return undefined;
    this.#size--;
    if (this.#frontHead < this.#front.length) {
      const id = this.#front[this.#frontHead++]!;
      if (this.#frontHead === this.#front.length) {
        this.#front.length = 0;
        this.#frontHead = 0;
      }
      return id;
    }
    const round = this.#round;
    if (this.#turn >= round.length) this.#turn = 0;
    const lane = round[this.#turn]!;
    const id = lane.ids[lane.head++]!;
    if (lane.head === lane.ids.length) {
      // Empty: out of the round (the next lane takes this index), its array kept for its next call.
      lane.ids.length = 0;
      lane.head = 0;
      lane.active = false;
      if (round.length === 1) round.length = 0;
      else round.splice(this.#turn, 1);
    } else {
      if (lane.head > COMPACT_AFTER && lane.head * 2 > lane.ids.length) {
        lane.ids = lane.ids.slice(lane.head);
        lane.head = 0;
      }
      if (round.length > 1) this.#turn++;
    }
    return id;
  }

  /** Calls `visit` with every queued id: those handed back, then each client's. */
  forEach(visit: (id: string) => void): void {
    for (let k = this.#frontHead; k < this.#front.length; k++) visit(this.#front[k]!);
    for (const lane of this.#round) for (let k = lane.head; k < lane.ids.length; k++) visit(lane.ids[k]!);
  }

  #dropEmptyLanes(): void {
    for (const [client, lane] of this.#lanes) if (!lane.active) this.#lanes.delete(client);
    if (this.#last && !this.#last.active) this.#last = undefined;
  }
}
