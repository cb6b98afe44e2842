import { describeError } from "../src/errors.js";
import type { Logger } from "../src/logger.js";
import { currentFunction, failedMessage, isBytes, type PalmMessage, splitFunction } from "../src/message.js";
import { type CallContext, DeadlineContext } from "../src/worker/callContext.js";
import { UserErrorLog } from "../src/worker/userErrorLog.js";

/**
 * A user function: takes the payload (and a context whose `signal` fires at the call's deadline), returns
 * the result bytes (or a promise of them). One-argument functions simply ignore the context.
 */
export type UserFunction = (payload: Uint8Array, context: CallContext) => unknown;

/** Runs the function a message names; the context defaults to one without a deadline. */
export type FunctionRunner = (
  message: PalmMessage,
  context?: DeadlineContext,
) => PalmMessage[] | Promise<PalmMessage[]>;

/** Finds the user function a message names (`server.fn` at its stage), or undefined. */
export type FunctionLookup = (fn: string) => UserFunction | undefined;

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    (Symbol.iterator in (value as object) || Symbol.asyncIterator in (value as object))
  );
}

/** How a function runner treats what user functions return. */
export interface FunctionRunnerOptions {
  /** Functions return an iterable (or async iterable): each item is its own result (`MuxWorker`). @default false */
  mux?: boolean;
  /**
   * A function that returns nothing (`undefined` or `null`) produces no result at all, instead of an error
   * result (pylm's `Pipeline` and `Sink`: "do nothing if the function returns no value"). @default false
   */
  dropEmpty?: boolean;
}

/**
 * Builds the hook that runs user functions on messages, for workers and in-process servers. A function
 * that throws, returns something other than bytes, or does not exist produces an error result (the
 * `error` field set) and is logged (with its stack at most once per function every 10 s, with a count);
 * it never fails the part. With `mux`, a function
 * returns an iterable (or async iterable) and each item becomes its own result, with its own id (an error
 * thrown after some items is one more result, in place of the next item). With
 * `dropEmpty`, a function returning nothing produces no result.
 */
export function createFunctionRunner(
  lookup: FunctionLookup,
  logger: Logger,
  options: boolean | FunctionRunnerOptions = false,
): FunctionRunner {
  const { mux = false, dropEmpty = false } = typeof options === "boolean" ? { mux: options } : options;
  const settle = (
    message: PalmMessage,
    fn: string,
    value: unknown,
  ): PalmMessage[] | Promise<PalmMessage[]> => {
    if (!mux) {
      if (isBytes(value)) return [{ ...message, payload: value, error: undefined }];
      if (dropEmpty && (value === undefined || value === null)) return [];
      return [
        failedMessage(
          message,
          `TypeError: ${fn} returned ${value === null ? "null" : typeof value}, expected bytes`,
        ),
      ];
    }
    if (!isIterable(value)) return [failedMessage(message, `TypeError: ${fn} returned no iterable`)];
    return (async () => {
      const out: PalmMessage[] = [];
      let k = 0;
      const nextId = () => (message.id === undefined ? undefined : `${message.id}/${k++}`);
      try {
        for await (const item of value as AsyncIterable<unknown>) {
          const id = nextId();
          if (isBytes(item)) out.push({ ...message, payload: item, id, error: undefined });
          else
            out.push({
              ...failedMessage(message, `TypeError: ${fn} yielded ${typeof item}, expected bytes`),
              id,
            });
        }
      } catch (error) {
        // Thrown after some items: those stay results, and the error is one more in its place.
        if (out.length === 0) throw error;
        out.push({ ...fail(message, fn, error)[0]!, id: nextId() });
      }
      return out;
    })();
  };
  const errors = new UserErrorLog(logger);
  const fail = (message: PalmMessage, fn: string, error: unknown): PalmMessage[] => {
    errors.failed(fn, error);
    return [failedMessage(message, describeError(error))];
  };
  // Messages in a batch almost always name the same function: it is resolved once per run of them.
  let lastEntry: string | undefined;
  let lastFn = "";
  let lastUser: UserFunction | undefined;
  return (message, context = new DeadlineContext()) => {
    const entry = currentFunction(message);
    if (entry !== lastEntry) {
      lastFn = splitFunction(entry).fn;
      lastUser = lookup(lastFn);
      lastEntry = entry;
    }
    const fn = lastFn;
    const user = lastUser;
    if (!user) return [failedMessage(message, `unknown function "${fn}" (message names "${entry}")`)];
    try {
      const value = user(message.payload, context);
      if (isPromise(value)) {
        return value.then(
          (resolved) => settle(message, fn, resolved),
          (error) => fail(message, fn, error),
        );
      }
      const settled = settle(message, fn, value);
      return isPromise(settled) ? settled.catch((error) => fail(message, fn, error)) : settled;
    } catch (error) {
      return fail(message, fn, error);
    }
  };
}

/**
 * Looks functions up on an object: the `functions` option first, then methods its class (and its
 * ancestors up to, not including, `base`) defines — so a subclass's methods are callable by name but the
 * framework's own (`start`, `stop`, …) are not.
 */
export function methodLookup(
  target: object,
  base: object,
  functions?: Record<string, UserFunction>,
): FunctionLookup {
  const methods = new Map<string, UserFunction>();
  let proto = Object.getPrototypeOf(target);
  while (proto && proto !== base && proto !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      // A subclass that overrides a framework method (`stop`, `start`, …) does not make it callable.
      if (key === "constructor" || methods.has(key) || key in base) continue;
      const value = Object.getOwnPropertyDescriptor(proto, key)?.value;
      if (typeof value === "function") methods.set(key, value.bind(target));
    }
    proto = Object.getPrototypeOf(proto);
  }
  for (const [key, value] of Object.entries(functions ?? {})) {
    if (typeof value === "function") methods.set(key, value);
  }
  return (fn) => methods.get(fn);
}
