import { partEvents } from "../../machines/events.js";
import { badInputReporter } from "../../src/bridges/badInput.js";
import { bridgeActor } from "../../src/bridges/bridgeActor.js";
import { applyHook } from "../../src/bridges/frames.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import type { PalmMessage } from "../../src/message.js";
import { definePart } from "../../src/part.js";
import { checkEndpoint } from "../../src/validate.js";
import { services } from "../partKinds.js";

/** Options PushPullService reads from its registration, besides the common part options. */
export interface PushPullServiceOptions {
  /** Where its PULL socket binds for the workers' answers. */
  pullAddress: string;
}

const pushPlan = socketPlan("push", true);
const pullPlan = socketPlan("pull", true);

/**
 * The bridge: pushes every message of a delivery to the workers, then pulls as many answers from its
 * second (PULL) socket; the answers are the delivery's feedback.
 */
const bridge = bridgeActor((environment, send, receive) => {
  const { keeper, name, codec, options } = environment;
  const pullAddress = options.pullAddress as string;
  const push = keeper.acquire(name, pushPlan(environment));
  const pull = keeper.acquire(`${name}.pull`, { ...pullPlan(environment), address: pullAddress });
  let open = true;
  const fail = (error: unknown) => {
    if (open) send(partEvents.fault(error));
  };
  // What a peer pushes to the PULL that is not an answer is its problem: counted, and the wait goes on.
  const onBad = badInputReporter(pull, environment.logger, send, () => open);
  const decodeAnswers = (frames: Buffer[]): PalmMessage[] => {
    if (frames.length !== 1) {
      onBad(1, `expected 1 frame, got ${frames.length}`);
      return [];
    }
    try {
      return codec.decode(frames[0]!);
    } catch (error) {
      onBad(1, error instanceof Error ? error.message : String(error));
      return [];
    }
  };
  Promise.all([push.ready, pull.ready]).then(() => open && send(partEvents.ready()), fail);
  receive((command) => {
    if (command.type !== "bridge.send") return;
    const run = async () => {
      const feedback: PalmMessage[] = [];
      let seq = 0;
      for (const delivery of command.deliveries) {
        seq = delivery.seq;
        const messages = applyHook(delivery.messages, options.gather, "gather");
        for (const message of messages) await push.send(codec.encodeOne(message));
        let expected = messages.length;
        while (expected > 0) {
          for (const answer of decodeAnswers(await pull.receive(onBad))) {
            feedback.push(answer);
            expected--;
          }
        }
      }
      if (open) send(partEvents.sent(seq, feedback.length, feedback));
    };
    run().catch(fail);
  });
  return () => {
    open = false;
  };
});

/**
 * An outbound part that pushes each message to workers and waits for their answer on a second, pulled
 * socket (pylm's `PushPullService`): blocking, so its feedback is the workers' answer. Binds its PUSH at
 * the part's address and its PULL at the `pullAddress` option.
 */
export const PushPullService = definePart<PushPullServiceOptions>(
  "PushPullService",
  services.blockingOutbound,
  {
    optionKeys: ["pullAddress"],
    peers: "workers",
    summary:
      "Pushes each message to workers and waits for the answer on a second PULL socket (pylm's `PushPullService`).",
    bridge,
    prepare: (environment) => {
      checkEndpoint(`pullAddress (part "${environment.name}")`, environment.options.pullAddress);
    },
  },
);
