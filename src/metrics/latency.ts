import { type CollectedMetric, collected, type Sample } from "./collected.js";

/** Upper bounds (seconds) of the latency buckets: 0.5 ms to 60 s. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** The most functions a histogram keeps apart; calls to others are counted under `~other`. */
const MAX_FUNCTIONS = 200;

interface Series {
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * A latency histogram per function, cheap enough for every call: one map lookup and one bucket search, no
 * allocation after a function's first call. Read by Prometheus as `NAME_bucket`, `NAME_sum`, `NAME_count`.
 * @internal
 */
export class LatencyHistogram {
  readonly #series = new Map<string, Series>();
  readonly #qualified: boolean;

  /** `qualified`: calls are recorded under `server.fn`, read back as `fn`. */
  constructor(qualified = false) {
    this.#qualified = qualified;
  }

  /** Records one call of `fn` that took `seconds`. */
  readonly record = (fn: string, seconds: number): void => {
    let series = this.#series.get(fn);
    if (!series) {
      const key = this.#series.size < MAX_FUNCTIONS ? fn : "~other";
      series = this.#series.get(key) ?? {
        buckets: new Float64Array(LATENCY_BUCKETS.length),
        sum: 0,
        count: 0,
      };
      this.#series.set(key, series);
    }
    series.sum += seconds;
    series.count++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= (LATENCY_BUCKETS[i] as number)) {
        series.buckets[i] = (series.buckets[i] as number) + 1;
        break;
      }
    }
  };

  /**
   * The histogram as a metric named `name`, labelled by `function`: the function's name without its
   * server (a qualified histogram records `server.fn` as such, and reads it as `fn`: recording allocates
   * nothing).
   */
  metric(name: string, help: string, labels: Record<string, string> = {}): CollectedMetric {
    return collected(name, help, "histogram", () => this.#samples(name, labels));
  }

  *#samples(name: string, labels: Record<string, string>): Iterable<Sample> {
    for (const [fn, series] of this.#byFunction()) {
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += series.buckets[i] as number;
        const le = String(LATENCY_BUCKETS[i]);
        yield { metricName: `${name}_bucket`, labels: { ...labels, function: fn, le }, value: cumulative };
      }
      const total = { ...labels, function: fn };
      yield { metricName: `${name}_bucket`, labels: { ...total, le: "+Inf" }, value: series.count };
      yield { metricName: `${name}_sum`, labels: total, value: series.sum };
      yield { metricName: `${name}_count`, labels: total, value: series.count };
    }
  }

  /** The series by function name without its server (`a.fn` and `b.fn` add up under `fn`). */
  #byFunction(): Map<string, Series> {
    const out = new Map<string, Series>();
    for (const [key, series] of this.#series) {
      const fn = this.#qualified ? key.slice(key.indexOf(".") + 1) : key;
      const into = out.get(fn);
      if (!into) {
        out.set(fn, { buckets: Float64Array.from(series.buckets), sum: series.sum, count: series.count });
        continue;
      }
      for (let i = 0; i < into.buckets.length; i++)
        into.buckets[i] = (into.buckets[i] as number) + (series.buckets[i] as number);
      into.sum += series.sum;
      into.count += series.count;
    }
    return out;
  }
}
