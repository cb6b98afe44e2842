import { type BridgeEvent, partEvents } from "../../machines/events.js";
import type { PalmMessage } from "../message.js";
import type { PartEnvironment } from "../part.js";
import type { FrameBatch } from "../sockets/keptSocket.js";
import { sendReceived } from "./bridgeActor.js";
import { applyBatchHook, decodeBatch, type HookedBatch } from "./frames.js";

/**
 * What a non-blocking inbound part does with a batch it read: decodes its `frames`-frame messages (bad ones
 * go to `onBad`), applies `scatter` and hands the messages to the router, or wherever `divert` sends each.
 * A message `scatter` throws on (or answers with something that is not messages) costs only itself: the
 * rest of the batch goes on, and then the part fails with the hook's error (`PALM_ERR_PART_HOOK`).
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
  // A message the hook failed on costs only itself: the others go on, then the part fails with the cause.
  const settle = (hooked: HookedBatch): void => {
    forward(hooked.messages);
    if (hooked.failure !== undefined && isOpen()) send(partEvents.fault(hooked.failure));
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
    const hooked = applyBatchHook(decoded.messages, scatter, "scatter");
    if (!(hooked instanceof Promise)) return settle(hooked);
    return hooked.then(settle, (error) => {
      if (isOpen()) send(partEvents.fault(error));
    });
  };
}
