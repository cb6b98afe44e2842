import { createBypassReplyBridge } from "../../src/bridges/bypassReplyBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { invalidOption } from "../../src/errors.js";
import { isBytes, type PalmMessage } from "../../src/message.js";
import { definePart } from "../../src/part.js";
import { services } from "../partKinds.js";

/** Answers one request of a `RepBypassService`: a message, or bytes to put in the request's payload. */
export type BypassRequestHandler = (
  message: PalmMessage,
) => PalmMessage | Uint8Array | Promise<PalmMessage | Uint8Array>;

/** Options RepBypassService reads from its registration. */
export interface RepBypassServiceOptions {
  /** Answers each request. @default echo */
  handle?: BypassRequestHandler;
}

const bridge = createBypassReplyBridge(socketPlan("rep", true), async (frame, environment) => {
  const [request] = environment.codec.decode(frame);
  if (!request) throw new Error("empty request");
  const handle = environment.options.handle as BypassRequestHandler | undefined;
  const answer = handle ? await handle(request) : request;
  const reply = isBytes(answer) ? { ...request, payload: answer } : answer;
  return environment.codec.encodeOne(reply);
});

/**
 * Binds a REP socket and answers each request itself with its `handle` option (echo by default), never
 * involving the router (pylm's `RepBypassService`). A handler that throws answers an empty frame.
 */
export const RepBypassService = definePart<RepBypassServiceOptions>(
  "RepBypassService",
  services.blockingBypass,
  {
    optionKeys: ["handle"],
    summary:
      "Binds a REP socket and answers each request with its `handle` option, bypassing the router (pylm's `RepBypassService`).",
    bridge,
    prepare: (environment) => {
      const handle = environment.options.handle;
      if (handle !== undefined && typeof handle !== "function") {
        throw invalidOption(
          `handle (part "${environment.name}")`,
          "a function (message) => message | bytes",
          handle,
        );
      }
    },
  },
);
