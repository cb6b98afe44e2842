import { bypassPartMachine } from "../../machines/bypassPart.js";
import { createBypassReplyBridge } from "../../src/bridges/bypassReplyBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { currentFunction, splitFunction } from "../../src/message.js";
import { definePart } from "../../src/part.js";

const EMPTY = Buffer.alloc(0);

const bridge = createBypassReplyBridge(socketPlan("rep", true), (frame, environment) => {
  const [message] = environment.codec.decode(frame);
  if (!message) throw new Error("empty cache request");
  const { fn } = splitFunction(currentFunction(message));
  const { cache } = environment;
  switch (fn) {
    case "get": {
      const value = cache.get(Buffer.from(message.payload).toString());
      return value ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : EMPTY;
    }
    case "set":
      return Buffer.from(cache.set(Buffer.from(message.payload), message.cache));
    case "delete": {
      const key = Buffer.from(message.payload).toString();
      cache.delete(key);
      return Buffer.from(key);
    }
    default:
      throw new Error(`unknown cache function "${fn}" (expected get, set or delete)`);
  }
});
const provided = bypassPartMachine.provide({ actors: { bridge } });

/**
 * Binds a REP socket serving the server's key-value store (pylm's `CacheService`): a message whose
 * function ends in `.set` stores `payload` under `cache` (a new uuid when empty) and answers the key;
 * `.get` answers the value stored under the key in `payload` (empty when absent); `.delete` removes it
 * and answers the key. Answers are raw bytes, as in pylm.
 */
export const CacheService = definePart({
  partType: "CacheService",
  role: "bypass",
  blocking: true,
  service: true,
  scheme: "zmq",
  summary: "Binds a REP socket serving the server's key-value store (pylm's `CacheService`).",
  machine: bypassPartMachine,
  build: () => provided,
});
