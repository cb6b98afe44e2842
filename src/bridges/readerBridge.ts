import { partEvents } from "../../machines/events.js";
import type { PartEnvironment } from "../part.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { badInputReporter } from "./badInput.js";
import { createBatchForwarder } from "./batchForwarder.js";
import { bridgeActor, discardOnFault } from "./bridgeActor.js";

/**
 * The bridge of a non-blocking inbound part (PULL, SUB): batches its kept socket reads become
 * `part.received` events (after `scatter`); bad frames are counted and logged at most every 10 s.
 */
export function createReaderBridge(plan: (environment: PartEnvironment) => SocketPlan, frames: number) {
  return bridgeActor((environment, send, receive) => {
    const { keeper, name, logger } = environment;
    const kept = keeper.acquire(name, plan(environment));
    let open = true;
    const onBad = badInputReporter(kept, logger, send, () => open);
    const deliver = createBatchForwarder(environment, send, onBad, () => open, frames);
    const onError = discardOnFault(environment, send, () => open);
    kept.ready.then(
      () => {
        if (!open) return;
        // A restarted part starts flowing whatever its predecessor left (the router pauses it again if its
        // route is still pressed), and it is ready before the batches held while it was down reach it.
        kept.resume();
        send(partEvents.ready());
        kept.attach(deliver, onError, onBad);
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
