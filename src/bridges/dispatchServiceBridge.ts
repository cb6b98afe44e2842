import type { DispatchOrder, WorkerNews } from "../../machines/deliveryTypes.js";
import { partEvents } from "../../machines/events.js";
import type { Delivery } from "../../machines/types.js";
import {
  DISPATCH_CACHE_KEY,
  decodeBeat,
  decodeCredit,
  decodeHello,
  dispatchTags,
  encodeRevoke,
  encodeWorkHeader,
  readTag,
} from "../dispatch/protocol.js";
import type { PalmMessage } from "../message.js";
import type { FrameBatch } from "../sockets/keptSocket.js";
import { isPeerFault } from "../sockets/peerFault.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { badInputReporter } from "./badInput.js";
import { type BoundAddress, bridgeActor, discardOnFault, readyWhenBound } from "./bridgeActor.js";
import { socketPlan } from "./socketPlans.js";

const routerPlan = socketPlan("router", true);

/** Where a Dispatch part keeps its address once bound, so a restart binds the same one again. */
export type DispatchAddress = BoundAddress;

/** The address a Dispatch part binds when none is given: a wildcard port beside the worker PUSH's. */
export function siblingDispatchAddress(workerPushAddress: string): string {
  if (workerPushAddress.startsWith("tcp://")) {
    const hostPort = workerPushAddress.slice("tcp://".length);
    const colon = hostPort.lastIndexOf(":");
    return `tcp://${colon === -1 ? hostPort : hostPort.slice(0, colon)}:*`;
  }
  return `${workerPushAddress}-dispatch`;
}

function isOrder(envelope: unknown): envelope is DispatchOrder {
  const type = (envelope as { type?: unknown } | undefined)?.type;
  return type === "work" || type === "revoke" || type === "welcome" || type === "who";
}

/**
 * The bridge of a Master's `Dispatch` part: a bound ROUTER (ZMQ_ROUTER_MANDATORY on) palm workers connect
 * their DEALERs to. What workers send (hello, results, beats, bye) goes to the delivery part as news; what
 * the delivery part orders (work, revoke, who) goes to the named worker, and a worker that cannot be
 * reached is reported gone instead of being dropped silently. Malformed input is counted, never fatal.
 */
export function createDispatchServiceBridge() {
  return bridgeActor((environment, send, receive) => {
    const { keeper, name, logger, options, codec } = environment;
    const to = options.deliveryPart as string;
    const address = options.dispatchAddress as DispatchAddress;
    const plan: SocketPlan = {
      ...routerPlan(environment),
      address: address.resolved ?? environment.address,
      // zeromq.js types socket options per socket class; the plan's are the generic socket's.
      options: { mandatory: true } as unknown as SocketPlan["options"],
    };
    const kept = keeper.acquire(name, plan);
    let open = true;
    const onBad = badInputReporter(kept, logger, send, () => open);
    const news = (messages: PalmMessage[], item: WorkerNews) => send(partEvents.received(messages, to, item));
    const onBatch = (batch: FrameBatch): void => {
      if (!open) return;
      let bad = 0;
      let reason = "";
      const results = new Map<string, PalmMessage[]>();
      for (const frames of batch) {
        const tag = readTag(frames[1]);
        const worker = frames[0]!.toString("latin1");
        try {
          if (tag === "results" && frames.length === 3) {
            const decoded = codec.decode(frames[2]!);
            const list = results.get(worker);
            if (list) for (const message of decoded) list.push(message);
            else results.set(worker, decoded);
            continue;
          }
          if (tag === "hello" && frames.length === 3) {
            const hello = decodeHello(frames[2]);
            if (hello && hello.id === worker) {
              news([], { type: "hello", hello });
              continue;
            }
          } else if (tag === "beat" && frames.length === 3) {
            const beat = decodeBeat(frames[2]);
            if (beat) {
              news([], { type: "beat", worker: beat.id, busy: beat.busy });
              continue;
            }
          } else if (tag === "credit" && frames.length === 3) {
            const credit = decodeCredit(frames[2]);
            if (credit) {
              news([], { type: "credit", worker, prefetch: credit.prefetch });
              continue;
            }
          } else if (tag === "bye" && frames.length === 2) {
            news([], { type: "bye", worker });
            continue;
          }
          bad++;
          reason = `not a dispatch message (${tag ?? "no tag"})`;
        } catch (error) {
          bad++;
          reason = error instanceof Error ? error.message : String(error);
        }
      }
      for (const [worker, messages] of results) news(messages, { type: "results", worker });
      if (bad > 0) onBad(bad, reason);
    };
    const onError = discardOnFault(environment, send, () => open);
    // Published for workers, as the address they connect to.
    readyWhenBound(kept, environment, send, () => open, {
      address,
      cacheKey: DISPATCH_CACHE_KEY,
      onBatch,
      onError,
      onBad,
    });
    const sendOrder = async (order: DispatchOrder, messages: PalmMessage[]): Promise<void> => {
      const head = Buffer.from(order.worker, "latin1");
      if (order.type === "who" || order.type === "welcome") {
        await kept.send([head, dispatchTags[order.type]]);
        return;
      }
      if (order.type === "revoke") {
        await kept.send([head, dispatchTags.revoke, encodeRevoke({ seqs: order.seqs })]);
        return;
      }
      if (codec.batches) {
        const header = encodeWorkHeader({ seq: order.seq, deadlines: order.deadlines });
        for (const frame of codec.encode(messages)) await kept.send([head, dispatchTags.work, header, frame]);
        return;
      }
      for (let k = 0; k < messages.length; k++) {
        const header = encodeWorkHeader({ seq: order.seq + k, deadlines: [order.deadlines[k] ?? 0] });
        await kept.send([head, dispatchTags.work, header, codec.encodeOne(messages[k]!)]);
      }
    };
    const perform = async (deliveries: Delivery[]) => {
      let count = 0;
      for (const delivery of deliveries) {
        const order = delivery.envelope;
        if (!isOrder(order)) continue;
        try {
          await sendOrder(order, delivery.messages);
          count += delivery.messages.length;
        } catch (error) {
          // ZMQ_ROUTER_MANDATORY found no peer of that id.
          if (!isPeerFault(error, "router", "send")) throw error;
          // The worker is gone (its connection closed): what it held goes to others.
          if (open && order.type !== "who") news([], { type: "gone", worker: order.worker });
        }
      }
      if (open) send(partEvents.sent(deliveries[deliveries.length - 1]!.seq, count));
    };
    receive((command) => {
      if (command.type === "bridge.send") perform(command.deliveries).catch(onError);
    });
    return () => {
      open = false;
      kept.detach();
    };
  });
}
