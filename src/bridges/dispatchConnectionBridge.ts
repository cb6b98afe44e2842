import { partEvents } from "../../machines/events.js";
import { RateLimitedLog } from "../logger.js";
import type { PalmMessage } from "../message.js";
import type { FrameBatch } from "../sockets/keptSocket.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import type { DispatchLink, DispatchRunner } from "../worker/dispatchRunner.js";
import { bridgeActor, discardOnFault } from "./bridgeActor.js";
import { socketPlan } from "./socketPlans.js";

const dealerPlan = socketPlan("dealer", false);

/**
 * The bridge of a worker's dispatch part: a DEALER (routing id = the worker's id) connected to the master's
 * Dispatch ROUTER. What it reads goes to the worker's `DispatchRunner` (work, revokes, `who`); the runner
 * sends hello and results through it while it runs. Bad frames are counted and logged at most every 10 s.
 */
export function createDispatchConnectionBridge() {
  return bridgeActor((environment, send) => {
    const { keeper, name, logger, options } = environment;
    const runner = options.dispatch as DispatchRunner;
    const badLog = new RateLimitedLog();
    // zeromq.js types socket options per socket class; the plan's are the generic socket's.
    const dealerOptions = { routingId: runner.id } as unknown as SocketPlan["options"];
    const kept = keeper.acquire(name, {
      ...dealerPlan(environment),
      // Where the master is now (it may have moved since the part was registered).
      address: runner.address,
      options: dealerOptions,
      observePeers: (event) => runner.peer(event),
    });
    let open = true;
    const link: DispatchLink = {
      send: (frames) =>
        open ? kept.send(frames) : Promise.reject(new Error("the part stopped while sending")),
      moveTo: (from, to) => {
        try {
          kept.socket.disconnect(from);
        } catch {
          // Not connected there (any more).
        }
        kept.socket.connect(to);
      },
    };
    const onBatch = (batch: FrameBatch): void => {
      if (!open) return;
      const readAt = Date.now();
      let bad = 0;
      let reason = "";
      let work: PalmMessage[][] | undefined;
      for (const frames of batch) {
        const received = runner.receive(frames);
        if (received.kind === "work") {
          work ??= [];
          work.push(received.messages);
        } else if (received.kind === "bad") {
          bad++;
          reason = received.reason;
        }
      }
      // The work runs (and a lone message's result is sent) before the part's machine counts it, with the
      // time it was read (the inspector orders hops across processes by time).
      runner.afterBatch();
      if (work) for (const messages of work) send(partEvents.receivedAt(messages, readAt));
      if (bad > 0) {
        send(partEvents.badFrame(bad, reason));
        badLog.hit((count) => logger.warn({ count, reason }, "bad frames dropped"), bad);
      }
    };
    const onError = discardOnFault(environment, send, () => open);
    kept.ready.then(
      () => {
        if (!open) return;
        kept.attach(onBatch, onError);
        runner.attach(link).catch(onError);
        send(partEvents.ready());
      },
      (error) => onError(error),
    );
    return () => {
      open = false;
      runner.detach(link);
      kept.detach();
    };
  });
}
