import { partEvents } from "../../machines/events.js";
import type { PalmMessage } from "../message.js";
import type { PartEnvironment } from "../part.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { badInputReporter } from "./badInput.js";
import { bridgeActor, discardOnFault, sendReceived } from "./bridgeActor.js";
import { applyMaybeAsyncHook, decodeBatch } from "./frames.js";

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
    // A SUB that greets (SubConnection) is ready only once its publisher answered its greeting topic, so
    // nothing published after `start()` resolves is lost to a slow join; what arrives before is held.
    const greetTopic = typeof options.greetTopic === "string" ? Buffer.from(options.greetTopic) : undefined;
    let flowing = greetTopic === undefined;
    let early: Buffer[][] = [];
    let greetTimer: NodeJS.Timeout | undefined;
    const becomeReady = () => {
      if (flowing || !open) return;
      flowing = true;
      clearTimeout(greetTimer);
      send(partEvents.ready());
      const held = early;
      early = [];
      if (held.length > 0) void onBatch(held);
    };
    const onBatch = (incoming: Buffer[][]): void | Promise<void> => {
      let batch = incoming;
      if (greetTopic) {
        batch = [];
        for (const frames of incoming) {
          if (frames.length === 2 && frames[1]!.length === 0 && greetTopic.equals(frames[0]!)) {
            kept.greeted = true;
            becomeReady();
          } else batch.push(frames);
        }
        if (!flowing) {
          for (const frames of batch) early.push(frames);
          return;
        }
        if (batch.length === 0) return;
      }
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
        // An async hook: the kept socket reads no more until it settles (natural backpressure).
        return messages.then(forward, (error) => {
          if (open) send(partEvents.fault(error));
        });
      } catch (error) {
        send(partEvents.fault(error));
      }
    };
    const forward = (messages: PalmMessage[]): void => {
      if (!open || messages.length === 0) return;
      sendReceived(messages, options.divert, send);
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
          greetTimer = setTimeout(() => {
            logger.info(
              { waitMs },
              "no greeting from the publisher (not started yet, or a pylm peer): going on",
            );
            becomeReady();
          }, waitMs);
          return;
        }
        flowing = true;
        send(partEvents.ready());
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
      clearTimeout(greetTimer);
      kept.detach();
    };
  });
}
