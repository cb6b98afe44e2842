import type { JobOptions, JobResult } from "../../actors/client.js";

/** What `collectJob` needs from a client: palm's `Client` fits. */
export interface JobClient {
  /** Sends every payload to `fn` and yields each result (`Client.job`). */
  job(
    fn: string | string[],
    payloads: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options?: JobOptions,
  ): AsyncIterable<JobResult>;
}

/** Options of `collectJob`. */
export interface CollectJobOptions extends JobOptions {
  /**
   * The tag that identifies a payload, and the result made from it. The default (the payload's UTF-8
   * text) fits functions that echo their payload and payloads made by `taggedPayloads`.
   * @default (bytes) => Buffer.from(bytes).toString("utf8")
   */
  tagOf?: (bytes: Uint8Array) => string;
  /** Gives up after this long without a result, and reports what arrived. @default 30000 */
  idleTimeoutMs?: number;
  /** Called after each result with the number received so far. */
  onResult?: (received: number) => void;
}

/** What a job delivered, counted by payload tag. */
export interface JobReport {
  /** Every result the client yielded, in arrival order (errors included, as `RemoteError`). */
  readonly results: JobResult[];
  /** How many payloads the client took from the source (sent). */
  readonly sent: number;
  /** Tags sent whose result never arrived. */
  readonly lost: string[];
  /** Tags whose result arrived more than once. */
  readonly duplicated: string[];
  /** Results that were errors (their tags count as lost). */
  readonly errors: Error[];
  /** Whether the job ended because no result came for `idleTimeoutMs` (or the job threw). */
  readonly incomplete: boolean;
  /** Why the job ended early, when it did. */
  readonly failure: unknown;
}

const utf8 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString();

/**
 * `count` payloads, each carrying a unique tag (`${prefix}${i}`), for `collectJob`.
 *
 * @example
 * const payloads = taggedPayloads(3); // "tag-0", "tag-1", "tag-2" as bytes
 */
export function taggedPayloads(count: number, prefix = "tag-"): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`${prefix}${i}`));
}

/**
 * Runs `client.job(fn, payloads)` to the end and counts what came back by payload tag: which tags were
 * lost (sent, never received) and which were duplicated (received more than once), from the raw results
 * the client yields. Never hangs: after `idleTimeoutMs` without a result it reports what it has.
 *
 * @example
 * const { results, lost, duplicated } = await collectJob(client, "server.echo", taggedPayloads(10_000));
 * assert.equal(results.length, 10_000);
 * assert.deepEqual([lost, duplicated], [[], []]);
 */
export async function collectJob(
  client: JobClient,
  fn: string | string[],
  payloads: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: CollectJobOptions = {},
): Promise<JobReport> {
  const { tagOf = utf8, idleTimeoutMs = 30_000, onResult, ...jobOptions } = options;
  const sentTags: string[] = [];
  async function* recorded(): AsyncGenerator<Uint8Array> {
    for await (const payload of payloads as AsyncIterable<Uint8Array>) {
      sentTags.push(tagOf(payload));
      yield payload;
    }
  }
  const results: JobResult[] = [];
  const errors: Error[] = [];
  const seen = new Map<string, number>();
  let incomplete = false;
  let failure: unknown;
  const iterator = client.job(fn, recorded(), jobOptions)[Symbol.asyncIterator]();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<"idle">((resolve) => {
      timer = setTimeout(() => resolve("idle"), idleTimeoutMs);
    });
    let next: IteratorResult<JobResult> | "idle";
    try {
      next = await Promise.race([iterator.next(), idle]);
    } catch (error) {
      incomplete = true;
      failure = error;
      break;
    } finally {
      clearTimeout(timer);
    }
    if (next === "idle") {
      incomplete = true;
      failure = new Error(`no result for ${idleTimeoutMs} ms (${results.length} received)`);
      // The job may never settle; ask it to end without waiting for it.
      iterator.return?.().catch(() => undefined);
      break;
    }
    if (next.done) break;
    const result = next.value;
    results.push(result);
    if (result instanceof Error) errors.push(result);
    else {
      const tag = tagOf(result);
      seen.set(tag, (seen.get(tag) ?? 0) + 1);
    }
    onResult?.(results.length);
  }
  const lost = sentTags.filter((tag) => !seen.has(tag));
  const duplicated = [...seen].filter(([, count]) => count > 1).map(([tag]) => tag);
  return { results, sent: sentTags.length, lost, duplicated, errors, incomplete, failure };
}
