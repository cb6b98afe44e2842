import { fromCallback } from "xstate";
import { type BridgeCommand, type BridgeEvent, partEvents } from "../../machines/events.js";
import type { PartInput } from "../../machines/partSetup.js";
import { RateLimitedLog } from "../logger.js";
import type { PartEnvironment } from "../part.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { applyHook, decodeBatch } from "./frames.js";

/**
 * The bridge of a non-blocking inbound part (PULL, SUB): batches its kept socket reads become
 * `part.received` events (after `scatter`); bad frames are counted and logged at most every 10 s.
 */
export function createReaderBridge(plan: (environment: PartEnvironment) => SocketPlan, frames: number) {
  return fromCallback<BridgeCommand, PartInput>(({ input, sendBack, receive }) => {
    const environment = input.bridge as PartEnvironment;
    const send = sendBack as (event: BridgeEvent) => void;
    const { keeper, name, logger, options } = environment;
    const badLog = new RateLimitedLog();
    const kept = keeper.acquire(name, plan(environment));
    let open = true;
    const onBatch = (batch: Buffer[][]) => {
      const decoded = decodeBatch(environment, batch, frames);
      if (decoded.bad > 0) {
        send(partEvents.badFrame(decoded.bad, decoded.reason));
        badLog.hit(
          (count) => logger.warn({ count, reason: decoded.reason }, "bad frames dropped"),
          decoded.bad,
        );
      }
      if (decoded.messages.length === 0) return;
      try {
        const messages = applyHook(decoded.messages, options.scatter, "scatter");
        if (messages.length > 0) send(partEvents.received(messages));
      } catch (error) {
        send(partEvents.fault(error));
      }
    };
    const onError = (error: unknown) => {
      if (!open) return;
      keeper.discard(name);
      send(partEvents.fault(error));
    };
    kept.ready.then(
      () => {
        if (!open) return;
        kept.attach(onBatch, onError);
        send(partEvents.ready());
      },
      (error) => onError(error),
    );
    receive((command) => {
      if (command.type === "bridge.pause") kept.pause();
      else if (command.type === "bridge.resume") kept.resume();
    });
    return () => {
      open = false;
      kept.detach();
    };
  });
}
