/** Label values of one series. */
export type Labels = Record<string, string>;

/** One series read at scrape time: its labels, its value and, for histograms, its suffixed name. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * A metric whose series are read when Prometheus scrapes (from counters palm keeps anyway), registered
 * in a prom-client `Registry` like its own metrics: the message path does no extra work for it.
 * @internal
 */
export interface CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricKind;
  readonly aggregator: "sum";
  get(): { name: string; help: string; type: MetricKind; aggregator: "sum"; values: Sample[] };
}

/** The Prometheus types palm's metrics have. */
export type MetricKind = "counter" | "gauge" | "histogram";

/** Builds a metric read by `read` at every scrape. @internal */
export function collected(
  name: string,
  help: string,
  type: MetricKind,
  read: () => Iterable<Sample>,
): CollectedMetric {
  return {
    name,
    help,
    type,
    aggregator: "sum",
    get: () => ({ name, help, type, aggregator: "sum", values: [...read()] }),
  };
}

/**
 * Turns readings of a counter that starts again from zero (a part's counters live in its actor, which a
 * restart replaces) into a total that only grows, per key.
 * @internal
 */
export class MonotonicTotals {
  readonly #seen = new Map<string, { base: number; last: number }>();

  /** The total for `key` given its current reading. */
  total(key: string, reading: number): number {
    let entry = this.#seen.get(key);
    if (!entry) {
      entry = { base: 0, last: 0 };
      this.#seen.set(key, entry);
    }
    if (reading < entry.last) entry.base += entry.last;
    entry.last = reading;
    return entry.base + reading;
  }
}
