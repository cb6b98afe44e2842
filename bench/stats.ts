import { seededRandom } from "../src/testing/seededRandom.js";

/**
 * The `p`-th percentile (0–100, nearest-rank method) of values already sorted in ascending order.
 * Returns `NaN` for an empty array.
 *
 * @example
 * percentile([1, 2, 3, 4], 50); // 2
 */
export function percentile(sortedValues: readonly number[], p: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 100) {
    throw new RangeError(`Expected \`p\` to be a number from 0 to 100, got \`${String(p)}\` (${typeof p})`);
  }
  const n = sortedValues.length;
  if (n === 0) return Number.NaN;
  // Nearest rank: the smallest value with at least p% of the values at or below it.
  // (p * n) / 100, not (p / 100) * n: 99.9 / 100 * 1000 is 999.0000000000001 in floating point.
  const rank = Math.max(1, Math.ceil((p * n) / 100));
  return sortedValues[Math.min(rank, n) - 1]!;
}

/** The median of `values` (any order; not modified): the mean of the two middle values when the count is even. */
export function median(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A bootstrap interval of `median(b) / median(a) - 1`: each list is resampled with replacement `rounds`
 * times, and the interval holds the middle `level` % of the ratios so drawn. Seeded, so the same runs
 * give the same interval. How far the noise of runs this many leaves the ratio of their medians.
 *
 * @example
 * medianRatioInterval([10, 10, 10], [11, 11, 11]); // [0.1, 0.1] (no spread: no doubt)
 */
export function medianRatioInterval(
  a: readonly number[],
  b: readonly number[],
  level = 90,
  rounds = 2000,
  seed = 1,
): [number, number] {
  if (a.length === 0 || b.length === 0) return [Number.NaN, Number.NaN];
  const random = seededRandom(seed);
  const draw = (list: readonly number[]) => list.map(() => list[Math.floor(random() * list.length)]!);
  const ratios = sortedAscending(Array.from({ length: rounds }, () => median(draw(b)) / median(draw(a)) - 1));
  return [percentile(ratios, (100 - level) / 2), percentile(ratios, (100 + level) / 2)];
}

/** `values` copied and sorted ascending, ready for {@link percentile}. */
export function sortedAscending(values: Iterable<number>): number[] {
  return Array.from(values).sort((a, b) => a - b);
}

/**
 * The least-squares slope of `y` over `x` (`NaN` for fewer than two points or no spread in `x`).
 *
 * @example
 * slope([[0, 1], [1, 3], [2, 5]]); // 2
 */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}
