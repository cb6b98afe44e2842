import type { PartEnvironment } from "../part.js";
import type { FrameBatch } from "../sockets/keptSocket.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { badInputReporter } from "./badInput.js";
import { createBatchForwarder } from "./batchForwarder.js";
import { bridgeActor, discardOnFault, readyGate } from "./bridgeActor.js";
import { type GreetWait, startGreetWait } from "./greetWait.js";

/**
 * The bridge of a non-blocking inbound part (PULL, SUB): batches its kept socket reads become
 * `part.received` events (after `scatter`); bad frames are counted and logged at most every 10 s.
 */
export function createReaderBridge(plan: (environment: PartEnvironment) => SocketPlan, frames: number) {
  return bridgeActor((environment, send, receive) => {
    const { keeper, name, logger, options } = environment;
    const kept = keeper.acquire(name, plan(environment));
    let open = true;
    const onBad = badInputReporter(kept, logger, send, () => open);
    const deliver = createBatchForwarder(environment, send, onBad, () => open, frames);
    // A SUB that greets (SubConnection) is ready only once its publisher answered its greeting topic, so
    // nothing published after `start()` resolves is lost to a slow join; what arrives before is held.
    const greetTopic = typeof options.greetTopic === "string" ? Buffer.from(options.greetTopic) : undefined;
    const gate = readyGate(send, () => open, deliver);
    let greetWait: GreetWait | undefined;
    const becomeReady = () => {
      greetWait?.met();
      gate.open();
    };
    const onBatch = (incoming: FrameBatch): void | Promise<void> => {
      if (!greetTopic) return deliver(incoming);
      const batch: FrameBatch = [];
      for (const frames of incoming) {
        if (frames.length === 2 && frames[1]!.length === 0 && greetTopic.equals(frames[0]!)) {
          kept.greeted = true;
          becomeReady();
        } else batch.push(frames);
      }
      return gate.take(batch);
    };
    const onError = discardOnFault(environment, send, () => open);
    kept.ready.then(
      () => {
        if (!open) return;
        // A restarted part starts flowing whatever its predecessor left (the router pauses it again if its
        // route is still pressed), and it is ready before the batches held while it was down reach it.
        kept.resume();
        if (greetTopic && !kept.greeted) {
          kept.attach(onBatch, onError, onBad);
          const waitMs = typeof options.greetTimeoutMs === "number" ? options.greetTimeoutMs : 3000;
          greetWait = startGreetWait(waitMs, () => {
            logger.info(
              { waitMs },
              "no greeting from the publisher (not started yet, or a pylm peer): going on",
            );
            gate.open();
          });
          return;
        }
        gate.open();
        if (open) kept.attach(onBatch, onError, onBad);
      },
      (error) => onError(error),
    );
    receive((command) => {
      if (command.type === "bridge.pause") kept.pause();
      else if (command.type === "bridge.resume") kept.resume();
    });
    return () => {
      open = false;
      greetWait?.stop();
      kept.detach();
    };
  });
}
