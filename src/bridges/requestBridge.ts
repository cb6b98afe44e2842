import { fromCallback } from "xstate";
import { type BridgeCommand, type BridgeEvent, partEvents } from "../../machines/events.js";
import type { PartInput } from "../../machines/partSetup.js";
import type { PalmMessage } from "../message.js";
import type { PartEnvironment } from "../part.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { applyHook } from "./frames.js";

/**
 * The bridge of a blocking outbound part (REQ): sends each message of a delivery and waits for its answer,
 * which becomes the feedback. A REQ socket that lost its peer mid-request cannot recover, so a failure
 * discards the socket; the router redelivers what was not answered.
 */
export function createRequestBridge(plan: (environment: PartEnvironment) => SocketPlan) {
  return fromCallback<BridgeCommand, PartInput>(({ input, sendBack, receive }) => {
    const environment = input.bridge as PartEnvironment;
    const send = sendBack as (event: BridgeEvent) => void;
    const { keeper, name, options, codec } = environment;
    const kept = keeper.acquire(name, plan(environment));
    let open = true;
    let inFlight = false;
    const fail = (error: unknown) => {
      if (!open) return;
      keeper.discard(name);
      send(partEvents.fault(error));
    };
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
            const [frame] = await kept.receive();
            for (const answer of codec.decode(frame ?? Buffer.alloc(0))) feedback.push(answer);
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
