import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from "xstate";
import type { StateGraph, StateGraphEdge, StateGraphNode } from "./StateGraph.js";

/** Guards and actions as xstate stores them once a machine is built: names, objects or functions. */
type Implementation = string | { readonly type?: unknown } | ((...args: never[]) => unknown);

/** The extra fields xstate's guard combinators (`and`, `or`, `not`, `stateIn`) carry. */
interface CombinedGuard {
  readonly guards?: readonly Implementation[];
  readonly stateValue?: unknown;
}

/**
 * Walks an xstate v5 machine's state node tree into a {@link StateGraph}: one node per state node
 * (the root included) and one edge per transition target, including targetless transitions
 * (`source === target`, `internal: true`), self transitions, delayed transitions (`after 500ms`),
 * eventless transitions (`always`) and wildcard events (`xstate.error.actor.*`, `*`).
 *
 * @example
 * const graph = machineToGraph(partMachine);
 * console.log(toMermaid(graph));
 */
export function machineToGraph(machine: AnyStateMachine): StateGraph {
  const root = machine.root;
  const initialIds = new Set<string>([root.id]);
  const nodes: StateGraphNode[] = [];
  const edges: StateGraphEdge[] = [];

  const visit = (stateNode: AnyStateNode): void => {
    for (const target of stateNode.initial?.target ?? []) initialIds.add(target.id);
    nodes.push({
      id: stateNode.id,
      key: stateNode.key,
      parent: stateNode.parent ? stateNode.parent.id : null,
      type: stateNode.type,
      initial: false,
      path: stateNode.path.join("."),
    });
    edges.push(...transitionEdges(stateNode));
    for (const child of Object.values(stateNode.states) as AnyStateNode[]) visit(child);
  };
  visit(root);

  return {
    id: machine.id,
    kind: "statechart",
    nodes: nodes.map((node) => (initialIds.has(node.id) ? { ...node, initial: true } : node)),
    edges,
  };
}

/** Every outgoing edge of one state node, in xstate's order (`on`, `after`), then `always`. */
function transitionEdges(stateNode: AnyStateNode): StateGraphEdge[] {
  const delays = new Map<string, string>();
  for (const delayed of stateNode.after) delays.set(delayed.eventType, delayLabel(delayed.delay));

  const edges: StateGraphEdge[] = [];
  for (const [eventType, transitions] of stateNode.transitions) {
    const event = delays.get(eventType) ?? eventType;
    for (const transition of transitions) edges.push(...toEdges(stateNode, event, transition));
  }
  for (const transition of stateNode.always ?? []) edges.push(...toEdges(stateNode, "always", transition));
  return edges;
}

/** One edge per target of a transition, or one internal edge when it has no target. */
function toEdges(
  stateNode: AnyStateNode,
  event: string,
  transition: AnyTransitionDefinition,
): StateGraphEdge[] {
  const base: { event: string; guard?: string; actions?: string[] } = { event };
  if (transition.guard !== undefined) base.guard = describeGuard(transition.guard as Implementation);
  if (transition.actions.length > 0) {
    base.actions = transition.actions.map((action) => describeAction(action as Implementation));
  }
  const targets = transition.target ?? [];
  if (targets.length === 0) return [{ source: stateNode.id, target: stateNode.id, ...base, internal: true }];
  return targets.map((target) => ({ source: stateNode.id, target: target.id, ...base }));
}

/** `after 500ms` for a number, `after RETRY_DELAY` for a named delay, `after (expr)` for a function. */
function delayLabel(delay: unknown): string {
  if (typeof delay === "number") return `after ${delay}ms`;
  if (typeof delay === "string") return /^\d+$/.test(delay) ? `after ${delay}ms` : `after ${delay}`;
  return "after (expr)";
}

/** A readable name for a guard: its registered name, or `and(a, not(b))` for combinators. */
function describeGuard(guard: Implementation): string {
  if (typeof guard === "string") return guard;
  if (typeof guard === "function") {
    const combined = guard as CombinedGuard;
    if (combined.stateValue !== undefined) return `stateIn(${JSON.stringify(combined.stateValue)})`;
    if (Array.isArray(combined.guards) && ["and", "or", "not"].includes(guard.name)) {
      return `${guard.name}(${combined.guards.map(describeGuard).join(", ")})`;
    }
    return inlineName(guard.name, "guard");
  }
  return typeof guard.type === "string" ? guard.type : "inline";
}

/** A readable name for an action: its registered name, a built-in's type (`xstate.assign`) or `inline`. */
function describeAction(action: Implementation): string {
  if (typeof action === "string") return action;
  const type = (action as { readonly type?: unknown }).type;
  if (typeof type === "string") return type;
  return typeof action === "function" ? inlineName(action.name, "actions") : "inline";
}

/** An inline function's own name, unless it merely inherited the config property's name. */
function inlineName(name: string, propertyName: string): string {
  return name === "" || name === propertyName ? "inline" : name;
}
