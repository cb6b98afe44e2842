import { partEvents } from "../../machines/events.js";
import { createMessage } from "../message.js";
import type { PartEnvironment } from "../part.js";
import type { SocketPlan } from "../sockets/socketPlan.js";
import { badInputReporter } from "./badInput.js";
import { bridgeActor, discardOnFault } from "./bridgeActor.js";
import { applyMaybeAsyncHook, decodeBatch } from "./frames.js";

/**
 * The bridge of a blocking inbound part (REP): one request at a time goes to the machine, which answers
 * with `bridge.reply` once the router hands back the feedback. A bad request is answered at once with an
 * error message, since the REP socket cannot take another request before it replies.
 */
export function createReplyBridge(plan: (environment: PartEnvironment) => SocketPlan) {
  return bridgeActor((environment, send, receive) => {
    const { keeper, name, logger, options, codec } = environment;
    const kept = keeper.acquire(name, plan(environment));
    let open = true;
    const onBad = badInputReporter(kept, logger, send, () => open, "bad requests answered with an error");
    // Whether the REP socket holds a request its machine has not answered yet.
    let owing = false;
    const fail = discardOnFault(environment, send, () => open);
    const answerError = (reason: string) => {
      const frame = codec.encodeOne(createMessage({ error: reason }));
      kept.send(frame).then(() => kept.resume(), fail);
    };
    const onBatch = (batch: Buffer[][]) => {
      const decoded = decodeBatch(environment, batch, 1);
      if (decoded.bad > 0 || decoded.messages.length === 0) {
        const reason = decoded.reason || "empty request";
        onBad(1, reason);
        answerError(reason);
        return;
      }
      owing = true;
      const failHook = (error: unknown) => {
        owing = false;
        answerError(error instanceof Error ? error.message : String(error));
        send(partEvents.fault(error));
      };
      const scatter = options.scatter;
      if (!scatter) {
        send(partEvents.received(decoded.messages));
        return;
      }
      try {
        const messages = applyMaybeAsyncHook(decoded.messages, scatter, "scatter");
        if (Array.isArray(messages)) send(partEvents.received(messages));
        else messages.then((done) => open && send(partEvents.received(done)), failHook);
      } catch (error) {
        failHook(error);
      }
    };
    kept.ready.then(() => {
      if (!open) return;
      // Ready first: a request held while the part was down must find its machine listening.
      send(partEvents.ready());
      if (open)
        kept.attach(
          onBatch,
          fail,
          badInputReporter(kept, logger, send, () => open),
        );
    }, fail);
    receive((command) => {
      if (command.type !== "bridge.reply") return;
      owing = false;
      const reply = command.messages[0] ?? createMessage({ error: "the route produced no feedback" });
      kept.send(codec.encodeOne(reply)).then(() => {
        if (open) send(partEvents.replied());
        kept.resume();
      }, fail);
    });
    return () => {
      open = false;
      kept.detach();
      // The part stopped (crashed) owing its peer an answer: the kept REP socket can take no other request
      // until it replies, so the peer gets an error now instead of waiting forever.
      if (owing && !kept.closed) answerError("the part answering this request restarted; send it again");
    };
  });
}
