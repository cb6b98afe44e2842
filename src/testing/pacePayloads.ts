/**
 * Yields `payloads` in step with some progress, so that faults are spread over a whole job instead of
 * landing before or after it: the i-th payload waits until `progress()` reaches ⌊i · steps / count⌋
 * (e.g. the number of crashes so far, with `steps` the number of crashes planned).
 *
 * @example
 * let crashes = 0;
 * const job = collectJob(client, "server.echo", pacePayloads(taggedPayloads(10_000), 50, () => crashes));
 * await crashRepeatedly(master, "WorkerPush", { times: 50, onCrash: (n) => { crashes = n; } });
 */
export async function* pacePayloads<T>(
  payloads: readonly T[],
  steps: number,
  progress: () => number,
  pollMs = 1,
): AsyncGenerator<T> {
  for (let i = 0; i < payloads.length; i++) {
    const due = Math.min(steps, Math.floor((i * steps) / payloads.length));
    while (progress() < due) await new Promise((resolve) => setTimeout(resolve, pollMs));
    yield payloads[i]!;
  }
}
