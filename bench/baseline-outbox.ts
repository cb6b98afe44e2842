import { type BenchMessage, encodeBatch, encodeMessage } from "./baseline-codec.js";
import { BATCH_SIZE, type BaselineMode } from "./baseline-config.js";
import { BatchSender } from "./batch-sender.js";

/** The socket side an outbox writes to: a zeromq.js `send`. */
export type SendFrames = (frames: Buffer | Buffer[]) => Promise<void>;

/** Where a hop puts the messages it forwards; `push` may return a promise the caller must await. */
export interface Outbox {
  push(message: BenchMessage): Promise<void> | undefined;
}

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  readonly mode: BaselineMode;
  /** Prefix every frame with the message's `client` as a PUB topic. */
  readonly topic: boolean;
  /**
   * `plain` only: several loops push into this outbox, so sends are queued one after the other
   * (zeromq.js allows one pending send per socket). A single producer already awaits each send.
   * @default false
   */
  readonly concurrent?: boolean;
  /**
   * `batched` only: queue length at which the producer is made to wait.
   * @default 8 * BATCH_SIZE
   */
  readonly highWater?: number;
}

/**
 * An outbox for one socket: `plain` sends one message per frame and its promise resolves once that send
 * is done (so every send is awaited); `batched` packs up to {@link BATCH_SIZE} queued messages per frame.
 */
export function createOutbox(send: SendFrames, options: OutboxOptions): Outbox {
  if (options.mode === "batched") {
    const sender = new BatchSender<BenchMessage>(
      (batch) => {
        const frame = encodeBatch(batch);
        return options.topic ? send([Buffer.from(batch[0]!.client), frame]) : send(frame);
      },
      {
        maxBatch: BATCH_SIZE,
        highWater: options.highWater ?? 8 * BATCH_SIZE,
        ...(options.topic ? { sameBatch: (a: BenchMessage, b: BenchMessage) => a.client === b.client } : {}),
      },
    );
    return { push: (message) => sender.push(message) };
  }
  const direct = options.concurrent ? serialSend(send) : send;
  return options.topic
    ? { push: (message) => direct([Buffer.from(message.client), encodeMessage(message)]) }
    : { push: (message) => direct(encodeMessage(message)) };
}

/** Wraps `send` so that concurrent callers queue up instead of hitting zeromq.js's one-pending-send limit. */
function serialSend(send: SendFrames): SendFrames {
  let busy: Promise<void> | undefined;
  return async (frames) => {
    while (busy) await busy.catch(() => undefined);
    const pending = send(frames);
    busy = pending;
    try {
      await pending;
    } finally {
      busy = undefined;
    }
  };
}
