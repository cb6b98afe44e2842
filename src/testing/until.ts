/**
 * Polls `check` every `everyMs` until it returns a value other than `undefined`, and resolves with it;
 * rejects after `timeoutMs` with `what` in the message. Leaves no timer behind.
 * @internal
 */
export function until<T>(
  check: () => T | undefined,
  timeoutMs: number,
  what: () => string,
  everyMs = 1,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  return new Promise<T>((resolve, reject) => {
    const poll = () => {
      let value: T | undefined;
      try {
        value = check();
      } catch (error) {
        reject(error);
        return;
      }
      if (value !== undefined) resolve(value);
      else if (performance.now() >= deadline) reject(new Error(`Timed out after ${timeoutMs} ms ${what()}`));
      else setTimeout(poll, everyMs);
    };
    poll();
  });
}
