import { partEvents } from "../../machines/events.js";
import type { PartEnvironment } from "../part.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { badInputReporter } from "./badInput.js";
import { bridgeActor, discardOnFault } from "./bridgeActor.js";

/** Answers one request frame of a bypass REP part with the reply frame. May throw: the bridge answers empty. */
export type BypassHandler = (frame: Buffer, environment: PartEnvironment) => Buffer | Promise<Buffer>;

/**
 * The bridge of a bypass REP part (the cache service, `RepBypassService`): it answers each request itself
 * and never involves the router. A request the handler cannot take is answered with an empty frame, so
 * the peer's REQ socket is never left waiting.
 */
export function createBypassReplyBridge(
  plan: (environment: PartEnvironment) => SocketPlan,
  handle: BypassHandler,
) {
  return bridgeActor((environment, send) => {
    const { keeper, name, logger } = environment;
    const kept = keeper.acquire(name, plan(environment));
    let open = true;
    const onBad = badInputReporter(kept, logger, send, () => open, "bad requests answered empty");
    const fail = discardOnFault(environment, send, () => open);
    const answer = async (frames: Buffer[]) => {
      let reply: Buffer;
      try {
        if (frames.length !== 1) throw new Error(`expected 1 frame, got ${frames.length}`);
        reply = await handle(frames[0]!, environment);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        onBad(1, reason);
        reply = Buffer.alloc(0);
      }
      await kept.send(reply);
      if (open) send(partEvents.replied());
      kept.resume();
    };
    kept.ready.then(() => {
      if (!open) return;
      kept.attach(
        (batch) => {
          for (const frames of batch) answer(frames).catch(fail);
        },
        fail,
        badInputReporter(kept, logger, send, () => open),
      );
      send(partEvents.ready());
    }, fail);
    return () => {
      open = false;
      kept.detach();
    };
  });
}
