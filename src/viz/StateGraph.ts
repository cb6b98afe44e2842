/**
 * The graph every palm drawing is made from: a statechart walked out of an xstate machine, a
 * server's supervision tree or its routing table. `toMermaid`, `toDot`, `toJson` and `toSvg` all
 * take one of these, so a renderer never needs to know where the graph came from.
 */

/** What a node is: xstate's state node types (servers' graphs use `atomic` and `compound`). */
export type StateGraphNodeType = "atomic" | "compound" | "parallel" | "final" | "history";

/** What a graph depicts, so renderers can pick a layout direction. */
export type StateGraphKind = "statechart" | "supervision" | "routing";

/** One node: a state node of a machine, or a server, its router or one of its parts. */
export interface StateGraphNode {
  /** Unique within the graph; for statecharts, xstate's state node id (`machine.running.ready`). */
  readonly id: string;
  /** The short name drawn on the node (xstate's state `key`, or a part's name). */
  readonly key: string;
  /** The id of the enclosing node, or `null` for a top-level node (a machine's root). */
  readonly parent: string | null;
  /** The node's type. */
  readonly type: StateGraphNodeType;
  /** Whether this node is its parent's initial state. */
  readonly initial: boolean;
  /**
   * The dotted state path that selects this node in a snapshot's state value (`running.ready`);
   * `""` for a machine's root. Drawings put it on the node as `data-state` so a live page can
   * highlight the current state by toggling a class.
   */
  readonly path: string;
  /** A second, smaller line of text (a part's kind and type); drawn where the format allows. */
  readonly detail?: string;
}

/** One transition (or, for servers, one supervision or routing link). */
export interface StateGraphEdge {
  /** The id of the node the transition leaves. */
  readonly source: string;
  /** The id of the node the transition enters; equal to `source` for internal transitions. */
  readonly target: string;
  /** The event name (`START`, `xstate.error.actor.*`, `after 500ms`, `always`) or link label. */
  readonly event: string;
  /** The guard's name when the transition is guarded. */
  readonly guard?: string;
  /** The names of the actions the transition runs, when it runs any. */
  readonly actions?: readonly string[];
  /** `true` for a targetless transition: it runs actions without leaving `source`. */
  readonly internal?: boolean;
}

/** A drawable graph of nodes (possibly nested through `parent`) and labelled edges. */
export interface StateGraph {
  /** The graph's name: the machine id, or the server name. */
  readonly id: string;
  /** What the graph depicts. @default "statechart" */
  readonly kind?: StateGraphKind;
  /** Every node, parents before their children. */
  readonly nodes: readonly StateGraphNode[];
  /** Every edge, in document order. */
  readonly edges: readonly StateGraphEdge[];
}

/** The label drawn on an edge: `event [guard]`, or just `event`. */
export function edgeLabel(edge: StateGraphEdge): string {
  return edge.guard === undefined ? edge.event : `${edge.event} [${edge.guard}]`;
}

/** Groups a graph's nodes by parent id (`null` for top-level nodes), keeping document order. */
export function childrenByParent(graph: StateGraph): Map<string | null, StateGraphNode[]> {
  const children = new Map<string | null, StateGraphNode[]>();
  for (const node of graph.nodes) {
    const siblings = children.get(node.parent);
    if (siblings) siblings.push(node);
    else children.set(node.parent, [node]);
  }
  return children;
}

/**
 * A function giving, for an edge, the innermost node strictly containing both of its ends (`null`
 * for the top level): where nesting renderers (Mermaid blocks, ELK hierarchies) must place it.
 */
export function edgeContainerLookup(graph: StateGraph): (edge: StateGraphEdge) => string | null {
  const parents = new Map(graph.nodes.map((node) => [node.id, node.parent] as const));
  const ancestors = (id: string): string[] => {
    const chain: string[] = [];
    for (let at = parents.get(id) ?? null; at !== null; at = parents.get(at) ?? null) chain.push(at);
    return chain;
  };
  return (edge) => {
    const sourceAncestors = new Set(ancestors(edge.source));
    return ancestors(edge.target).find((id) => sourceAncestors.has(id)) ?? null;
  };
}
