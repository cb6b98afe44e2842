import { partEvents } from "../../machines/events.js";
import type { PalmMessage } from "../message.js";
import { bridgeActor, sendReceived } from "./bridgeActor.js";
import { applyHook, applyMaybeAsyncHook } from "./frames.js";
import { gatewayExchange, type MessageSink } from "./httpGatewayExchange.js";

/**
 * The bridge of a GatewayRouter: it takes the HttpGateway's requests from the exchange at its `inproc://`
 * address and hands them to its machine, which routes them (to the workers). Backpressure from the router
 * holds the requests in the exchange.
 */
export function createGatewayRouterBridge() {
  return bridgeActor((environment, send, receive) => {
    const exchange = gatewayExchange(environment, environment.address);
    const { scatter, divert } = environment.options;
    let open = true;
    /** An async `scatter` still running: later requests wait for it, so they keep their order. */
    let waiting: Promise<void> | undefined;
    const forward = (messages: PalmMessage[]): void => {
      if (!open || messages.length === 0) return;
      sendReceived(messages, divert, send);
    };
    const fault = (error: unknown): void => {
      if (open) send(partEvents.fault(error));
    };
    /** Runs `scatter` then routes; a promise while an async `scatter` settles. */
    const run = (messages: PalmMessage[]): Promise<void> | undefined => {
      if (!open) return undefined;
      try {
        if (!scatter) {
          forward(messages);
          return undefined;
        }
        const out = applyMaybeAsyncHook(messages, scatter, "scatter");
        if (Array.isArray(out)) {
          forward(out);
          return undefined;
        }
        return out.then(forward).catch(fault);
      } catch (error) {
        fault(error);
        return undefined;
      }
    };
    // The part's `scatter` and `divert` hooks run here, as a reader bridge runs them on what it reads.
    const take: MessageSink = (messages) => {
      const next = waiting ? waiting.then(() => run(messages)) : run(messages);
      if (!next) return;
      waiting = next;
      void next.finally(() => {
        if (waiting === next) waiting = undefined;
      });
    };
    // Ready first, then attached: the machine routes only once it is ready.
    queueMicrotask(() => {
      if (!open) return;
      send(partEvents.ready());
      exchange.attachRouter(take);
    });
    receive((command) => {
      if (command.type === "bridge.pause") exchange.pause();
      else if (command.type === "bridge.resume") exchange.resume();
    });
    return () => {
      open = false;
      exchange.detachRouter(take);
    };
  });
}

/**
 * The bridge of a GatewayDealer: what the router hands it (results from the workers) goes back through the
 * exchange at its `inproc://` address to the HttpGateway, after the part's `gather` hook.
 */
export function createGatewayDealerBridge() {
  return bridgeActor((environment, send, receive) => {
    const exchange = gatewayExchange(environment, environment.address);
    let open = true;
    queueMicrotask(() => {
      if (open) send(partEvents.ready());
    });
    receive((command) => {
      if (command.type !== "bridge.send" || command.deliveries.length === 0) return;
      let count = 0;
      try {
        for (const delivery of command.deliveries) {
          const messages = applyHook(delivery.messages, environment.options.gather, "gather");
          exchange.answer(messages);
          count += messages.length;
        }
      } catch (error) {
        send(partEvents.fault(error));
        return;
      }
      send(partEvents.sent(command.deliveries[command.deliveries.length - 1]!.seq, count));
    });
    return () => {
      open = false;
    };
  });
}
