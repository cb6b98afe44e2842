// Reading a Prometheus text exposition in tests: scrape an endpoint, pick one series' value.
import assert from "node:assert/strict";

/** The value of the one series of `name` whose labels include all of `labels`, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const values = text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .map((line) => Number(line.slice(line.lastIndexOf(" ") + 1)));
  assert.ok(values.length <= 1, `${name} ${JSON.stringify(labels)} matches ${values.length} series`);
  return values[0];
}

/** The text an endpoint serves. */
export const scrape = async (url: string): Promise<string> => (await fetch(url)).text();
