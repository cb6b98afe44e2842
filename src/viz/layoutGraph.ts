import elkModule from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js";
import {
  childrenByParent,
  edgeContainerLookup,
  edgeLabel,
  type StateGraph,
  type StateGraphEdge,
  type StateGraphNode,
} from "./StateGraph.js";

/** Font size of node and edge text, in px; widths are estimated for a monospace font. */
export const FONT_SIZE = 12;
/** Estimated width of one character at {@link FONT_SIZE} in a monospace font (0.6 em). */
const CHAR_WIDTH = FONT_SIZE * 0.6;
const NODE_HEIGHT = 32;
const DETAIL_HEIGHT = 16;
const INITIAL_DOT = 10;

/** A point in absolute SVG coordinates. */
export interface LayoutPoint {
  readonly x: number;
  readonly y: number;
}

/** A placed node; `container` nodes enclose their children. */
export interface LayoutNode {
  readonly node: StateGraphNode;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly container: boolean;
}

/** A routed edge: one polyline per section; `edge` is absent for initial-state arrows. */
export interface LayoutEdge {
  readonly edge?: StateGraphEdge;
  readonly sections: readonly (readonly LayoutPoint[])[];
  readonly label?: { readonly text: string; readonly x: number; readonly y: number; readonly width: number };
}

/** A graph placed by ELK, in absolute coordinates, parents before children. */
export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly LayoutNode[];
  /** The initial-state dots, one per compound state with an initial child. */
  readonly initialDots: readonly LayoutPoint[];
  readonly edges: readonly LayoutEdge[];
}

/**
 * elkjs is CommonJS: Node's default import is `module.exports`, whose `default` property is the
 * constructor, which is also what its typings describe.
 */
const Elk = elkModule.default;

/** Estimated rendered width of `text`. */
function textWidth(text: string): number {
  return [...text].length * CHAR_WIDTH;
}

/**
 * Lays a graph out with ELK's layered algorithm, compound states as hierarchical nodes, edges
 * routed across hierarchy levels (`INCLUDE_CHILDREN`).
 */
export async function layoutGraph(graph: StateGraph): Promise<GraphLayout> {
  const children = childrenByParent(graph);
  const containerOf = edgeContainerLookup(graph);
  const elkIds = new Map(graph.nodes.map((node, index) => [node.id, `n${index}`] as const));
  const elkNodes = new Map<string, ElkNode>();
  const root: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.direction": graph.kind === "supervision" || graph.kind === "routing" ? "RIGHT" : "DOWN",
      "elk.spacing.nodeNode": "28",
      "elk.layered.spacing.nodeNodeBetweenLayers": "36",
      "elk.spacing.edgeLabel": "4",
      // Keep document order (states as written, parts as registered) where crossings allow.
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.padding": "[top=12,left=12,bottom=12,right=12]",
      // A supervision tree reads best with one trunk per parent.
      "elk.layered.mergeEdges": graph.kind === "supervision" ? "true" : "false",
    },
    children: [],
    edges: [],
  };
  const edgeList = (containerId: string | null): ElkExtendedEdge[] => {
    const holder = containerId === null ? root : elkNodes.get(containerId);
    if (!holder) throw new Error(`layoutGraph: unknown container ${containerId}`);
    holder.edges ??= [];
    return holder.edges;
  };
  const payloads = new Map<string, StateGraphEdge | undefined>();

  const build = (node: StateGraphNode): ElkNode => {
    const id = elkIds.get(node.id) ?? node.id;
    const kids = children.get(node.id) ?? [];
    const widest = Math.max(textWidth(node.key), node.detail ? textWidth(node.detail) : 0);
    const elkNode: ElkNode =
      kids.length === 0
        ? { id, width: Math.max(64, widest + 28), height: NODE_HEIGHT + (node.detail ? DETAIL_HEIGHT : 0) }
        : {
            id,
            layoutOptions: {
              "elk.padding": `[top=${28 + (node.detail ? DETAIL_HEIGHT : 0)},left=14,bottom=14,right=14]`,
              "elk.nodeSize.minimum": `(${widest + 28}, 40)`,
              "elk.nodeSize.constraints": "MINIMUM_SIZE",
            },
            children: [],
          };
    elkNodes.set(node.id, elkNode);
    for (const kid of kids) elkNode.children?.push(build(kid));
    const initial = node.type === "parallel" ? undefined : kids.find((kid) => kid.initial);
    if (initial) {
      const dotId = `${id}-initial`;
      elkNode.children?.push({ id: dotId, width: INITIAL_DOT, height: INITIAL_DOT });
      const edgeId = `i${id}`;
      payloads.set(edgeId, undefined);
      // Graph edges are added after the whole tree is built, so this is the node's first edge.
      elkNode.edges = [{ id: edgeId, sources: [dotId], targets: [elkIds.get(initial.id) ?? ""] }];
    }
    return elkNode;
  };
  for (const node of children.get(null) ?? []) root.children?.push(build(node));

  graph.edges.forEach((edge, index) => {
    const id = `e${index}`;
    payloads.set(id, edge);
    const text = edgeLabel(edge);
    const labels = text ? [{ text, width: textWidth(text) + 8, height: FONT_SIZE + 6 }] : [];
    edgeList(containerOf(edge)).push({
      id,
      sources: [elkIds.get(edge.source) ?? edge.source],
      targets: [elkIds.get(edge.target) ?? edge.target],
      labels,
    });
  });

  const laidOut = await new Elk().layout(root);
  return collect(laidOut, graph, payloads);
}

/** Flattens ELK's nested, parent-relative result into absolute coordinates. */
function collect(
  root: ElkNode,
  graph: StateGraph,
  payloads: Map<string, StateGraphEdge | undefined>,
): GraphLayout {
  const nodes: LayoutNode[] = [];
  const initialDots: LayoutPoint[] = [];
  const edges: LayoutEdge[] = [];
  const offsets = new Map<string, LayoutPoint>([["root", { x: 0, y: 0 }]]);
  const pending: ElkExtendedEdge[] = [];

  const walk = (elkNode: ElkNode, origin: LayoutPoint): void => {
    pending.push(...(elkNode.edges ?? []));
    for (const child of elkNode.children ?? []) {
      const at = { x: origin.x + (child.x ?? 0), y: origin.y + (child.y ?? 0) };
      offsets.set(child.id, at);
      if (child.id.endsWith("-initial")) {
        initialDots.push({ x: at.x + INITIAL_DOT / 2, y: at.y + INITIAL_DOT / 2 });
        continue;
      }
      const node = graph.nodes[Number(child.id.slice(1))];
      if (node) {
        const container = (child.children ?? []).length > 0;
        nodes.push({ node, ...at, width: child.width ?? 0, height: child.height ?? 0, container });
      }
      walk(child, at);
    }
  };
  walk(root, { x: 0, y: 0 });

  for (const elkEdge of pending) {
    // ELK reports edge coordinates relative to the edge's container node.
    const origin = offsets.get(elkEdge.container ?? "root") ?? { x: 0, y: 0 };
    const shift = (point: { x: number; y: number }): LayoutPoint => ({
      x: origin.x + point.x,
      y: origin.y + point.y,
    });
    const sections = (elkEdge.sections ?? []).map((section) =>
      [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map(shift),
    );
    const elkLabel = elkEdge.labels?.[0];
    const edge = payloads.get(elkEdge.id);
    const label =
      elkLabel?.text === undefined
        ? undefined
        : {
            text: elkLabel.text,
            ...shift({ x: elkLabel.x ?? 0, y: elkLabel.y ?? 0 }),
            width: elkLabel.width ?? 0,
          };
    edges.push({ ...(edge ? { edge } : {}), sections, ...(label ? { label } : {}) });
  }
  return { width: root.width ?? 0, height: root.height ?? 0, nodes, initialDots, edges };
}
