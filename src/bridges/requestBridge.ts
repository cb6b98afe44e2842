import { partEvents } from "../../machines/events.js";
import { createMessage, type PalmMessage } from "../message.js";
import type { PartEnvironment } from "../part.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { badInputReporter } from "./badInput.js";
import { bridgeActor, discardOnFault } from "./bridgeActor.js";
import { applyHook } from "./frames.js";

/**
 * The bridge of a blocking outbound part (REQ): sends each message of a delivery and waits for its answer,
 * which becomes the feedback. A REQ socket that lost its peer mid-request cannot recover, so a failure
 * discards the socket; the router redelivers what was not answered.
 */
export function createRequestBridge(plan: (environment: PartEnvironment) => SocketPlan) {
  return bridgeActor((environment, send, receive) => {
    const { keeper, name, options, codec, logger } = environment;
    const kept = keeper.acquire(name, plan(environment));
    let open = true;
    const onBad = badInputReporter(kept, logger, send, () => open, "bad answers replaced by an error");
    // An answer that does not decode is the peer's fault: the request gets an error as its feedback, instead
    // of a restart that would redeliver it to the same peer (and fail again, up to an escalation).
    const answersTo = (message: PalmMessage, frames: Buffer[]): PalmMessage[] => {
      try {
        if (frames.length !== 1) throw new Error(`expected 1 frame, got ${frames.length}`);
        return codec.decode(frames[0]!);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        onBad(1, reason);
        return [
          createMessage({
            ...message,
            payload: Buffer.alloc(0),
            error: `the peer's answer could not be decoded: ${reason}`,
          }),
        ];
      }
    };
    let inFlight = false;
    const fail = discardOnFault(environment, send, () => open);
    kept.ready.then(() => open && send(partEvents.ready()), fail);
    receive((command) => {
      if (command.type !== "bridge.send") return;
      const run = async () => {
        inFlight = true;
        const feedback: PalmMessage[] = [];
        let seq = 0;
        for (const delivery of command.deliveries) {
          seq = delivery.seq;
          for (const message of applyHook(delivery.messages, options.gather, "gather")) {
            await kept.send(codec.encodeOne(message));
            for (const answer of answersTo(message, await kept.receive(onBad))) feedback.push(answer);
          }
        }
        inFlight = false;
        if (open) send(partEvents.sent(seq, feedback.length, feedback));
      };
      run().catch(fail);
    });
    return () => {
      open = false;
      // A REQ socket still owing a receive cannot send again: the next part instance starts afresh.
      if (inFlight) keeper.discard(name);
    };
  });
}
