import type { StateValue } from "xstate";

/**
 * Flattens an xstate state value into the inspector's dotted form: `"idle"` stays `"idle"`,
 * `{ running: "ready" }` becomes `"running.ready"`, and the active leaves of a parallel state are
 * joined with commas (`{ running: { a: "idle", b: "busy" } }` → `"running.a.idle,running.b.busy"`).
 */
export function stateValueToPath(value: StateValue): string {
  if (typeof value === "string") return value;
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    const inner = stateValueToPath(child);
    paths.push(...(inner === "" ? [key] : inner.split(",").map((path) => `${key}.${path}`)));
  }
  return paths.join(",");
}
