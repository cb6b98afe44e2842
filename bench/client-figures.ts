/** The figures every bench client (palm's, the baseline's, Moleculer's) reports, and how it times them. */
import { percentile, sortedAscending } from "./stats.js";

/** What every bench client measures; the runner adds the processes' peak RSS. */
export interface ClientFigures {
  /** Distinct results per second, from the first send to the last result. */
  readonly msgPerSec: number;
  /** Duration of the throughput phase, in seconds. */
  readonly seconds: number;
  readonly sent: number;
  /** Results received, duplicates included. */
  readonly received: number;
  readonly distinct: number;
  /** Messages sent whose result never arrived. */
  readonly lost: number;
  /** Results received more than once. */
  readonly duplicated: number;
  /** Median sequential round trip, in microseconds. */
  readonly evalP50Us: number;
  /** 99th percentile sequential round trip, in microseconds. */
  readonly evalP99Us: number;
  /** Every measured sequential round trip, ascending, µs. */
  readonly roundTripsUs: number[];
}

/** What a client counted in its throughput phase. */
export interface JobCounts {
  readonly sent: number;
  readonly received: number;
  readonly distinct: number;
  /** Results received more than once (`received - distinct` unless the client knows better). */
  readonly duplicated?: number;
  readonly seconds: number;
}

/** The figures of a run from what its job counted and its sequential round trips (ascending, µs). */
export function clientFigures(job: JobCounts, roundTripsUs: number[]): ClientFigures {
  return {
    msgPerSec: job.seconds > 0 ? job.distinct / job.seconds : 0,
    seconds: job.seconds,
    sent: job.sent,
    received: job.received,
    distinct: job.distinct,
    lost: job.sent - job.distinct,
    duplicated: job.duplicated ?? job.received - job.distinct,
    evalP50Us: percentile(roundTripsUs, 50),
    evalP99Us: percentile(roundTripsUs, 99),
    roundTripsUs,
  };
}

/**
 * Times `count` sequential calls of `call` after `warmup` untimed ones; returns the round trips in µs,
 * ascending.
 */
export async function timeRoundTrips(
  warmup: number,
  count: number,
  call: () => Promise<unknown>,
): Promise<number[]> {
  const rtts: number[] = [];
  for (let k = -warmup; k < count; k++) {
    const started = performance.now();
    await call();
    if (k >= 0) rtts.push((performance.now() - started) * 1000);
  }
  return sortedAscending(rtts);
}
