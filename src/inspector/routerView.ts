import type { AnyActorRef } from "xstate";
import type { WorkerInfo } from "../../machines/deliveryTypes.js";
import type { InspectorActor, InspectorPeer, InspectorSupervision } from "./types.js";

/** What a server's inspection reads of its router's snapshot. @internal */
export interface RouterView {
  readonly context: {
    readonly policy: {
      strategy: string;
      maxRestarts: number;
      withinMs: number;
      backoff: { minMs: number; maxMs: number; factor: number };
    };
    readonly restartHistory: readonly number[];
    readonly now: () => number;
  };
  readonly children: Record<string, AnyActorRef | undefined>;
}

/** The router's children that are not parts (a Master's delivery ledger), with their state and context facts. @internal */
export function actorsOf(router: RouterView, partNames: ReadonlySet<string>): InspectorActor[] {
  const actors: InspectorActor[] = [];
  for (const [name, child] of Object.entries(router.children)) {
    if (!child || partNames.has(name)) continue;
    const snapshot = child.getSnapshot() as { value?: unknown; context?: unknown };
    actors.push({ name, state: dotted(snapshot.value), facts: factsOf(snapshot.context) });
  }
  return actors;
}

/** The inspectors of the workers a Master's delivery ledger knows alive (they announce them in their hello). */
export function peersOf(router: RouterView): InspectorPeer[] {
  const peers: InspectorPeer[] = [];
  for (const child of Object.values(router.children)) {
    const context = (child?.getSnapshot() as { context?: { ledger?: unknown } } | undefined)?.context;
    const ledger = context?.ledger as { workers?: () => readonly WorkerInfo[] } | undefined;
    if (typeof ledger?.workers !== "function") continue;
    for (const worker of ledger.workers())
      if (worker.state === "alive" && worker.inspector)
        peers.push({ name: worker.name, url: worker.inspector });
  }
  return peers;
}

export function supervisionOf(router: RouterView): InspectorSupervision {
  const { policy, restartHistory, now } = router.context;
  const at = now();
  let used = 0;
  for (const time of restartHistory) if (at - time < policy.withinMs) used++;
  return {
    strategy: policy.strategy,
    intensity: policy.maxRestarts,
    withinMs: policy.withinMs,
    used,
    backoff: { minMs: policy.backoff.minMs, maxMs: policy.backoff.maxMs, factor: policy.backoff.factor },
  };
}

/** Small facts of an actor's context: numbers, short strings, sizes of collections (at most 12). */
function factsOf(context: unknown): Record<string, number | string> {
  const facts: Record<string, number | string> = {};
  if (!context || typeof context !== "object") return facts;
  let count = 0;
  for (const [key, value] of Object.entries(context)) {
    if (count >= 12) break;
    if (typeof value === "number" || typeof value === "boolean") facts[key] = Number(value);
    else if (typeof value === "string" && value.length <= 60) facts[key] = value;
    else if (Array.isArray(value)) facts[key] = value.length;
    else if (value instanceof Map || value instanceof Set) facts[key] = value.size;
    else if (value && typeof value === "object" && typeof value !== "function")
      facts[key] = Object.keys(value).length;
    else continue;
    count++;
  }
  return facts;
}

export function dotted(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    return Object.entries(value)
      .map(([key, inner]) => {
        const rest = dotted(inner);
        return rest ? `${key}.${rest}` : key;
      })
      .join(",");
  }
  return "";
}
