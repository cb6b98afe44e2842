import * as zmq from "zeromq";
import type { Logger } from "../src/logger.js";
import { readStreamTag, streamTags } from "../src/streams/protocol.js";

/** What a client's result stream is built with. */
export interface ResultStreamOptions {
  /** The client's id: its DEALER's routing id, so the server's ROUTER knows whose stream it is. */
  readonly id: string;
  /** How many results the client may have outstanding: the server keeps at most this many for it. */
  readonly window: number;
  readonly maxMessageSize: number;
  /** CURVE options of the client's sockets (empty for plain text). */
  readonly socketOptions: Record<string, unknown>;
  readonly logger: Logger;
  /** Called with every results frame, in order. */
  readonly onResults: (frame: Buffer) => void;
  /** Called once the server cut this client off, with its reason. */
  readonly onCutOff: (reason: string) => void;
  /** Called for everything that came over the stream (a sign the server lives). */
  readonly onHeard: () => void;
}

/**
 * A palm client's own result stream: a DEALER to its server's `Streams` ROUTER (see StreamService). It
 * says hello with the client's window and waits for the welcome, which proves results for this client now
 * come this way; every hello after a cut-off or a server restart opens the stream again.
 */
export class ClientResultStream {
  readonly #options: ResultStreamOptions;
  readonly #dealer: zmq.Dealer;
  #address: string | undefined;
  /** Settles the wait of `open()`: true once welcomed, false when the stream closes first. */
  #welcome: ((welcomed: boolean) => void) | undefined;

  constructor(options: ResultStreamOptions) {
    this.#options = options;
    this.#dealer = new zmq.Dealer({
      routingId: options.id,
      linger: 0,
      receiveHighWaterMark: 0,
      maxMessageSize: options.maxMessageSize,
      ...options.socketOptions,
    });
    void this.#read();
  }

  /** Connects to `address` (moving from the one before, if it changed) and resolves true once welcomed. */
  async open(address: string, waitMs: number): Promise<boolean> {
    if (this.#dealer.closed) return false;
    if (address !== this.#address) {
      if (this.#address !== undefined) this.#dealer.disconnect(this.#address);
      this.#dealer.connect(address);
      this.#address = address;
    }
    let timer: NodeJS.Timeout | undefined;
    const welcomed = new Promise<boolean>((resolve) => {
      this.#welcome = resolve;
      timer = setTimeout(() => resolve(false), waitMs);
    });
    try {
      await this.#dealer.send([streamTags.hello, Buffer.from(String(this.#options.window))]);
      return await welcomed;
    } finally {
      clearTimeout(timer);
      this.#welcome = undefined;
    }
  }

  async #read(): Promise<void> {
    const { onResults, onCutOff, onHeard, logger } = this.#options;
    try {
      for await (const [head, body] of this.#dealer) {
        onHeard();
        const tag = readStreamTag(head);
        if (tag === "results" && body) onResults(body);
        else if (tag === "welcome") this.#welcome?.(true);
        else if (tag === "cutoff") onCutOff(body ? body.toString() : "cut off");
        else logger.warn({ tag: head?.toString("latin1") }, "unexpected result-stream message dropped");
      }
    } catch (error) {
      if (!this.#dealer.closed) logger.error({ err: error }, "result stream failed");
    }
  }

  /** Whether the stream was closed. */
  get closed(): boolean {
    return this.#dealer.closed;
  }

  /** Tells the server this client goes (best effort, without waiting) and closes the socket. */
  close(): void {
    if (this.#dealer.closed) return;
    this.#welcome?.(false);
    if (this.#address !== undefined) this.#dealer.send([streamTags.bye]).catch(() => undefined);
    // linger 0 would drop the bye: give it a moment on its way out.
    this.#dealer.linger = 100;
    this.#dealer.close();
  }
}
