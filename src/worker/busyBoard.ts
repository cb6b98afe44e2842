/**
 * Where a worker's main thread publishes the synchronous call it is inside, for its heartbeat thread to
 * read without the main thread's help: a SharedArrayBuffer written with Atomics, no allocation per call.
 *
 * Layout (Int32): `[version, seqLow, seqHigh, startedMs]`. The version is odd while a call runs; a reader
 * that sees the same odd version before and after reading the fields has read one consistent call.
 * `startedMs` counts from `base` (a `Date.now()` both threads share), so it fits an Int32 for 24 days.
 */
export class BusyBoard {
  readonly buffer: SharedArrayBuffer;
  readonly base: number;
  readonly #cells: Int32Array;

  constructor(buffer = new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT), base = Date.now()) {
    this.buffer = buffer;
    this.base = base;
    this.#cells = new Int32Array(buffer);
  }

  /** The main thread enters the call of dispatch sequence number `seq`. */
  enter(seq: number): void {
    const cells = this.#cells;
    Atomics.store(cells, 1, seq % 0x8000_0000);
    Atomics.store(cells, 2, Math.floor(seq / 0x8000_0000));
    Atomics.store(cells, 3, Date.now() - this.base);
    // Even → odd: a call runs (enter and leave always alternate on the main thread).
    Atomics.add(cells, 0, 1);
  }

  /** The main thread left the call (it returned, threw, or went async). */
  leave(): void {
    Atomics.add(this.#cells, 0, 1);
  }

  /** The call running now and for how long (ms), or undefined when the main thread is in none. */
  read(now = Date.now()): { seq: number; ms: number } | undefined {
    const cells = this.#cells;
    for (let attempt = 0; attempt < 4; attempt++) {
      const version = Atomics.load(cells, 0);
      if ((version & 1) === 0) return undefined;
      const seq = Atomics.load(cells, 1) + Atomics.load(cells, 2) * 0x8000_0000;
      const started = Atomics.load(cells, 3);
      if (Atomics.load(cells, 0) === version) return { seq, ms: Math.max(0, now - this.base - started) };
    }
    return undefined;
  }
}
