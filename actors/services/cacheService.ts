import { createBypassReplyBridge } from "../../src/bridges/bypassReplyBridge.js";
import { socketPlan } from "../../src/bridges/socketPlans.js";
import { isPalmError, type PalmError, remoteErrorText } from "../../src/errors.js";
import { currentFunction, type PalmMessage, splitFunction } from "../../src/message.js";
import type { PartEnvironment } from "../../src/part.js";
import { definePart } from "../../src/part.js";
import { services } from "../partKinds.js";

const EMPTY = Buffer.alloc(0);
/** Keys travel as UTF-8: bytes that are not valid UTF-8 are refused, never decoded to a key they would alias. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

function keyOf(payload: Uint8Array): string {
  try {
    return utf8.decode(payload);
  } catch {
    throw new Error("the cache key is not valid UTF-8");
  }
}

/**
 * A refused `set` or `delete` is answered with the request carrying the error (`PALM_ERR_CACHE_READ_ONLY:
 * …`) instead of the key: a `CacheClient` tells the two apart, as a successful answer is exactly the key.
 */
function refusal(environment: PartEnvironment, request: PalmMessage, error: PalmError): Buffer {
  return environment.codec.encodeOne({
    ...request,
    payload: EMPTY,
    error: remoteErrorText(error.code, error.message),
  });
}

const bridge = createBypassReplyBridge(socketPlan("rep", true), (frame, environment) => {
  const [message] = environment.codec.decode(frame);
  if (!message) throw new Error("empty cache request");
  const { fn } = splitFunction(currentFunction(message));
  const { cache } = environment;
  try {
    switch (fn) {
      case "get": {
        const value = cache.get(keyOf(message.payload));
        return value ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : EMPTY;
      }
      case "set":
        return Buffer.from(cache.set(Buffer.from(message.payload), message.cache));
      case "delete": {
        const key = keyOf(message.payload);
        cache.delete(key);
        return Buffer.from(key);
      }
      default:
        throw new Error(`unknown cache function "${fn}" (expected get, set or delete)`);
    }
  } catch (error) {
    if (isPalmError(error, "PALM_ERR_CACHE_READ_ONLY")) return refusal(environment, message, error);
    throw error;
  }
});

/**
 * Binds a REP socket serving the server's key-value store (pylm's `CacheService`): a message whose
 * function ends in `.set` stores `payload` under `cache` (a new uuid when empty) and answers the key;
 * `.get` answers the value stored under the key in `payload` (empty when absent); `.delete` removes it
 * and answers the key. Answers are raw bytes, as in pylm. The keys the server preset (`name`, its
 * addresses, see `CacheStore`) are read-only: a `set` or `delete` of one is answered with the request
 * carrying a `PALM_ERR_CACHE_READ_ONLY` error instead of the key.
 */
export const CacheService = definePart("CacheService", services.blockingBypass, {
  // Clients discover the server here and workers the worker addresses: both allow-lists get in.
  peers: "both",
  summary: "Binds a REP socket serving the server's key-value store (pylm's `CacheService`).",
  bridge,
});
