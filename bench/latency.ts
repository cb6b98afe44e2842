/**
 * `palm bench --latency`: the distribution of sequential round trips of palm, the baseline and Moleculer,
 * as percentiles, a histogram for the terminal and an SVG chart (latency by percentile, the way
 * HdrHistogram plots it: the tail spread out to the right), drawn by hand.
 */
import { percentile } from "./stats.js";

/** One system's round trips, ascending, µs. */
export interface LatencySeries {
  readonly name: string;
  readonly roundTripsUs: readonly number[];
}

/** The percentiles `palm bench --latency` reports. */
export const LATENCY_PERCENTILES = [50, 90, 99, 99.9] as const;

/** One system's distribution: sample count, min, max and the percentiles, µs. */
export interface LatencySummary {
  readonly name: string;
  readonly samples: number;
  readonly minUs: number;
  readonly maxUs: number;
  /** Keyed `p50`, `p90`, `p99`, `p99.9`. */
  readonly percentilesUs: Readonly<Record<string, number>>;
}

/** The percentiles of each series (each `roundTripsUs` sorted ascending). */
export function summarizeLatency(series: readonly LatencySeries[]): LatencySummary[] {
  return series.map(({ name, roundTripsUs: s }) => ({
    name,
    samples: s.length,
    minUs: s[0] ?? Number.NaN,
    maxUs: s.at(-1) ?? Number.NaN,
    percentilesUs: Object.fromEntries(LATENCY_PERCENTILES.map((p) => [`p${p}`, percentile(s, p)])),
  }));
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const BINS = 16;
const BAR = 24;

/** Log-spaced bin edges from the fastest round trip to the slowest p99.9 (the rest in the last bin). */
function edges(series: readonly LatencySeries[]): number[] {
  const lo = Math.max(1, Math.min(...series.map((s) => s.roundTripsUs[0] ?? Number.POSITIVE_INFINITY)));
  const hi = Math.max(lo * 2, ...series.map((s) => percentile(s.roundTripsUs, 99.9) || 0));
  const step = Math.log(hi / lo) / BINS;
  return Array.from({ length: BINS + 1 }, (_, i) => lo * Math.exp(step * i));
}

function bar(share: number): string {
  const eighths = Math.round(share * BAR * 8);
  const full = Math.floor(eighths / 8);
  const rest = eighths % 8;
  return "█".repeat(full) + (rest > 0 ? " ▏▎▍▌▋▊▉"[rest]! : "");
}

/** The histogram and percentiles as text for a terminal: one row per bin, one bar per system. */
export function formatLatency(series: readonly LatencySeries[]): string {
  const cut = edges(series);
  const counts = series.map((s) => {
    const bins = new Array<number>(BINS).fill(0);
    for (const v of s.roundTripsUs) {
      let i = 0;
      while (i < BINS - 1 && v >= cut[i + 1]!) i++;
      bins[i]!++;
    }
    return bins;
  });
  const column = BAR + 8;
  const label = (i: number) =>
    `${int.format(cut[i]!).padStart(6)}${i === BINS - 1 ? "+" : `–${int.format(cut[i + 1]!)}`} µs`.padEnd(17);
  const lines = [
    `${"round trip".padEnd(17)}  ${series.map((s) => s.name.padEnd(column)).join("")}`.trimEnd(),
  ];
  for (let i = 0; i < BINS; i++) {
    const cells = series.map((s, k) => {
      const share = s.roundTripsUs.length > 0 ? counts[k]![i]! / s.roundTripsUs.length : 0;
      const text = share > 0 ? `${bar(share)} ${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%` : "";
      return text.padEnd(column);
    });
    lines.push(`${label(i)}  ${cells.join("")}`.trimEnd());
  }
  lines.push("");
  for (const s of summarizeLatency(series)) {
    const ps = LATENCY_PERCENTILES.map((p) => `p${p} ${int.format(s.percentilesUs[`p${p}`]!)}`).join(", ");
    lines.push(`${s.name}: ${ps} µs (${int.format(s.samples)} round trips, max ${int.format(s.maxUs)} µs)`);
  }
  return `${lines.join("\n")}\n`;
}

const COLORS = ["#d9480f", "#1971c2", "#2f9e44", "#7048e8"];

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

/**
 * An SVG chart of the round trip by percentile: x on a "nines" scale (50 %, 90 %, 99 %, 99.9 % equally
 * spaced), y logarithmic in µs, one line per system with its p50/p90/p99/p99.9 marked and labelled.
 */
export function latencySvg(series: readonly LatencySeries[], title: string, subtitle = ""): string {
  const width = 760;
  const height = 440;
  const left = 70;
  const right = 150;
  const top = 56;
  const bottom = 50;
  const maxNines = 3.3; // a little beyond 99.9 %
  const nines = (p: number) => -Math.log10(1 - p / 100);
  const all = series.flatMap((s) => [s.roundTripsUs[0] ?? 1, percentile(s.roundTripsUs, 99.95) || 1]);
  const yLo = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...all))));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(yLo * 10, ...all)));
  const x = (n: number) => left + (Math.min(n, maxNines) / maxNines) * (width - left - right);
  const y = (us: number) =>
    top + (1 - Math.log10(Math.max(us, yLo) / yLo) / Math.log10(yHi / yLo)) * (height - top - bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left}" y="40" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  for (let d = yLo; d <= yHi; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > yHi) break;
      out.push(
        `<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${m === 1 ? "#ccc" : "#eee"}"/>`,
        `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${int.format(v)}</text>`,
      );
    }
  }
  for (const [p, name] of [
    [0, "0%"],
    [50, "50%"],
    [90, "90%"],
    [99, "99%"],
    [99.9, "99.9%"],
  ] as const) {
    const px = x(nines(p)).toFixed(1);
    out.push(
      `<line x1="${px}" x2="${px}" y1="${top}" y2="${height - bottom}" stroke="#ddd"/>`,
      `<text x="${px}" y="${height - bottom + 16}" text-anchor="middle" fill="#555">${name}</text>`,
    );
  }
  out.push(
    `<text x="${(left + width - right) / 2}" y="${height - 12}" text-anchor="middle">percentile</text>`,
    `<text transform="translate(16 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">round trip, µs (log)</text>`,
  );
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length]!;
    const n = s.roundTripsUs.length;
    if (n === 0) return;
    const points: string[] = [];
    for (let i = 0; i < n; i++) {
      const q = i / n; // the share of round trips faster than this one
      if (nines(q * 100) > maxNines) break;
      points.push(`${x(nines(q * 100)).toFixed(1)},${y(s.roundTripsUs[i]!).toFixed(1)}`);
    }
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(" ")}"/>`);
    for (const p of LATENCY_PERCENTILES) {
      const v = percentile(s.roundTripsUs, p);
      out.push(
        `<circle cx="${x(nines(p)).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(s.name)} p${p}: ${int.format(v)} µs</title></circle>`,
      );
    }
    const ly = top + 10 + k * 64;
    const ps = LATENCY_PERCENTILES.map((p) => `p${p} ${int.format(percentile(s.roundTripsUs, p))}`);
    out.push(
      `<rect x="${width - right + 12}" y="${ly - 9}" width="12" height="12" fill="${color}"/>`,
      `<text x="${width - right + 30}" y="${ly + 1}" font-weight="bold">${escapeXml(s.name)}</text>`,
      ...ps.map(
        (text, i) => `<text x="${width - right + 30}" y="${ly + 15 + i * 12}" fill="#333">${text} µs</text>`,
      ),
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
