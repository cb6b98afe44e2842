/** Options of a {@link BatchSender}. */
export interface BatchSenderOptions<T> {
  /** The most items one batch holds. */
  readonly maxBatch: number;
  /** Queue length at which `push` starts returning a promise, so the producer stops reading. */
  readonly highWater: number;
  /** Whether `next` may ride in the same batch as `first` (e.g. both go to the same PUB topic). */
  readonly sameBatch?: (first: T, next: T) => boolean;
}

/**
 * Queues items and sends them in batches of what is already queued, never waiting to fill one:
 * one send in flight at a time (zeromq.js allows one pending send per socket).
 */
export class BatchSender<T> {
  readonly #send: (batch: T[]) => Promise<void>;
  readonly #options: BatchSenderOptions<T>;
  #queue: T[] = [];
  #scheduled = false;
  #pumping = false;
  #failure: { error: unknown } | undefined;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(send: (batch: T[]) => Promise<void>, options: BatchSenderOptions<T>) {
    this.#send = send;
    this.#options = options;
  }

  /** Items queued and not yet handed to the socket. */
  get backlog(): number {
    return this.#queue.length;
  }

  /**
   * Queues `item`. Returns `undefined` while the queue is short; past `highWater` returns a promise that
   * resolves once it drains below it (rejects if a send failed), which the producer should await.
   */
  push(item: T): Promise<void> | undefined {
    if (this.#failure) return Promise.reject(this.#failure.error);
    this.#queue.push(item);
    if (!this.#scheduled && !this.#pumping) {
      this.#scheduled = true;
      // A microtask later, so items queued in the same tick (one decoded frame) share a batch.
      queueMicrotask(() => void this.#pump());
    }
    if (this.#queue.length < this.#options.highWater) return undefined;
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async #pump(): Promise<void> {
    this.#scheduled = false;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        await this.#send(this.#takeBatch());
        if (this.#waiters.length > 0 && this.#queue.length < this.#options.highWater) {
          const waiters = this.#waiters;
          this.#waiters = [];
          for (const w of waiters) w.resolve();
        }
      }
    } catch (error) {
      // The socket is gone (closed or failed): fail every producer now and on every later push.
      this.#failure = { error };
      this.#queue = [];
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(error);
    } finally {
      this.#pumping = false;
    }
  }

  #takeBatch(): T[] {
    const { maxBatch, sameBatch } = this.#options;
    const queue = this.#queue;
    let n = Math.min(maxBatch, queue.length);
    if (sameBatch) {
      const first = queue[0]!;
      let i = 1;
      while (i < n && sameBatch(first, queue[i]!)) i++;
      n = i;
    }
    return queue.splice(0, n);
  }
}
