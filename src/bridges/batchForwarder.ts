import { type BridgeEvent, partEvents } from "../../machines/events.js";
import type { PalmMessage } from "../message.js";
import type { PartEnvironment } from "../part.js";
import type { FrameBatch } from "../sockets/keptSocket.js";
import { sendReceived } from "./bridgeActor.js";
import { applyMaybeAsyncHook, decodeBatch } from "./frames.js";

/**
 * What a non-blocking inbound part does with a batch it read: decodes its `frames`-frame messages (bad ones
 * go to `onBad`), applies `scatter` and hands the messages to the router, or wherever `divert` sends each.
 * An async `scatter` returns a promise: the socket reads no more until it settles (natural backpressure).
 */
export function createBatchForwarder(
  environment: PartEnvironment,
  send: (event: BridgeEvent) => void,
  onBad: (count: number, reason: string) => void,
  isOpen: () => boolean,
  frames: number,
): (batch: FrameBatch) => void | Promise<void> {
  const { options } = environment;
  const forward = (messages: PalmMessage[]): void => {
    if (isOpen() && messages.length > 0) sendReceived(messages, options.divert, send);
  };
  return (batch) => {
    const decoded = decodeBatch(environment, batch, frames);
    if (decoded.bad > 0) onBad(decoded.bad, decoded.reason);
    if (decoded.messages.length === 0) return;
    const scatter = options.scatter;
    if (!scatter) {
      forward(decoded.messages);
      return;
    }
    try {
      const messages = applyMaybeAsyncHook(decoded.messages, scatter, "scatter");
      if (Array.isArray(messages)) {
        forward(messages);
        return;
      }
      return messages.then(forward, (error) => {
        if (isOpen()) send(partEvents.fault(error));
      });
    } catch (error) {
      send(partEvents.fault(error));
    }
    return undefined;
  };
}
