import type { PalmMessage } from "../message.js";
import type { PartEnvironment } from "../part.js";

/** Takes a batch of messages (the GatewayRouter side, or the HttpGateway's answers). */
export type MessageSink = (messages: PalmMessage[]) => void;

/**
 * The in-process link between a server's `HttpGateway` (the HTTP front door, a bypass part) and its
 * `GatewayRouter` / `GatewayDealer` parts: what pylm did with an `inproc://` ROUTER and DEALER, palm does
 * with plain calls. Requests wait here while the GatewayRouter is down or held back, so a restart of it
 * loses none; answers go straight to the front door, which knows which HTTP client waits for which id.
 */
export class HttpGatewayExchange {
  /** Requests not yet taken by the GatewayRouter, by message id, in arrival order. */
  readonly #held = new Map<string, PalmMessage>();
  #router: MessageSink | undefined;
  #paused = false;
  #front: MessageSink | undefined;

  /** Hands requests to the GatewayRouter, or holds them until it is attached and not held back. */
  submit(messages: PalmMessage[]): void {
    if (this.#router && !this.#paused && this.#held.size === 0) {
      this.#router(messages);
      return;
    }
    for (const message of messages) this.#held.set(message.id!, message);
    this.#flush();
  }

  /**
   * Takes a request back if the GatewayRouter never took it (its client gave up): true if it was still
   * held here, which tells "the cluster never got it" (502) from "the cluster did not answer" (504).
   */
  withdraw(id: string): boolean {
    return this.#held.delete(id);
  }

  /** The GatewayRouter part attaches when it is ready (again); what was held goes to it at once. */
  attachRouter(router: MessageSink): void {
    this.#router = router;
    this.#paused = false;
    this.#flush();
  }

  detachRouter(router: MessageSink): void {
    if (this.#router === router) this.#router = undefined;
  }

  /** The router holds the GatewayRouter back (its route is under pressure): requests wait here. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#flush();
  }

  /** The HttpGateway part attaches its answer function while it listens. */
  attachFront(front: MessageSink): void {
    this.#front = front;
  }

  detachFront(front: MessageSink): void {
    if (this.#front === front) this.#front = undefined;
  }

  /**
   * Results the GatewayDealer hands back: to the front door, which answers their HTTP clients. With no
   * front door attached there is no client left to answer (a stopping front door answers its own 503s).
   */
  answer(messages: PalmMessage[]): void {
    this.#front?.(messages);
  }

  /** How many requests wait for the GatewayRouter. */
  get held(): number {
    return this.#held.size;
  }

  #flush(): void {
    if (!this.#router || this.#paused || this.#held.size === 0) return;
    const batch = [...this.#held.values()];
    this.#held.clear();
    this.#router(batch);
  }
}

/** Exchanges by server (its socket keeper, one per start) and by `inproc://` address. */
const exchanges = new WeakMap<object, Map<string, HttpGatewayExchange>>();

/** The exchange at `address` in the server `environment` belongs to, made on first use by any side. */
export function gatewayExchange(environment: PartEnvironment, address: string): HttpGatewayExchange {
  let byAddress = exchanges.get(environment.keeper);
  if (!byAddress) {
    byAddress = new Map();
    exchanges.set(environment.keeper, byAddress);
  }
  let exchange = byAddress.get(address);
  if (!exchange) {
    exchange = new HttpGatewayExchange();
    byAddress.set(address, exchange);
  }
  return exchange;
}
