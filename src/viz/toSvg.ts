import { escapeXml } from "./escapeXml.js";
import {
  FONT_SIZE,
  type GraphLayout,
  type LayoutNode,
  type LayoutPoint,
  layoutGraph,
} from "./layoutGraph.js";
import type { StateGraph } from "./StateGraph.js";

const FONT_FAMILY = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace";

/**
 * Styles carried inside the SVG so it needs nothing external. A state node is a
 * `g.palm-state[data-state]`; adding the class `active` to it highlights it.
 */
const STYLE = `
.palm-box { fill: #ffffff; stroke: #475569; stroke-width: 1.2; }
.palm-container > .palm-box { fill: #f8fafc; }
.palm-region > .palm-box { fill: #f1f5f9; stroke-dasharray: 5 3; }
.palm-label { font: ${FONT_SIZE}px ${FONT_FAMILY}; fill: #0f172a; }
.palm-container > .palm-label { font-weight: bold; }
.palm-detail { font: ${FONT_SIZE - 2}px ${FONT_FAMILY}; fill: #64748b; }
.palm-edge { fill: none; stroke: #64748b; stroke-width: 1.2; }
.palm-internal { stroke-dasharray: 4 3; }
.palm-edge-label { font: ${FONT_SIZE - 1}px ${FONT_FAMILY}; fill: #334155; }
.palm-edge-label-bg { fill: #ffffff; fill-opacity: 0.9; }
.palm-initial { fill: #0f172a; }
.palm-state.active > .palm-box { fill: #dcfce7; stroke: #16a34a; stroke-width: 2.4; }
.palm-state.active.palm-container > .palm-box { fill: #f0fdf4; }
`;

/** Fixed to two decimals: enough for screen coordinates, stable in snapshots. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** SVG path data for a polyline. */
function pathData(points: readonly LayoutPoint[]): string {
  return points.map((point, index) => `${index === 0 ? "M" : "L"}${n(point.x)} ${n(point.y)}`).join(" ");
}

/**
 * Renders a graph as a self-contained SVG document laid out by ELK (elkjs): states as rounded
 * boxes labelled with their key, compound states enclosing their children, edges as arrows
 * labelled `event [guard]`. Each state is a `<g data-state="<dotted path>">` so a page can
 * highlight the current state by toggling the class `active`. No external fonts or stylesheets.
 *
 * @example
 * writeFileSync("part.svg", await toSvg(machineToGraph(machine)));
 */
export async function toSvg(graph: StateGraph): Promise<string> {
  return drawLayout(graph, await layoutGraph(graph));
}

/** Draws an already computed layout. */
function drawLayout(graph: StateGraph, layout: GraphLayout): string {
  const width = Math.ceil(layout.width);
  const height = Math.ceil(layout.height);
  const parentType = new Map(graph.nodes.map((node) => [node.id, node.type] as const));
  const childrenOf = new Map<string | null, LayoutNode[]>();
  for (const placed of layout.nodes) {
    const siblings = childrenOf.get(placed.node.parent) ?? [];
    siblings.push(placed);
    childrenOf.set(placed.node.parent, siblings);
  }

  const drawNode = (placed: LayoutNode, depth: number): string[] => {
    const { node } = placed;
    const indent = "  ".repeat(depth);
    const region = node.parent !== null && parentType.get(node.parent) === "parallel";
    const classes = ["palm-state", `palm-${node.type}`];
    if (placed.container) classes.push("palm-container");
    if (region) classes.push("palm-region");
    const x = placed.x;
    const y = placed.y;
    const radius = node.type === "history" ? placed.height / 2 : 8;
    const lines = [
      `${indent}<g class="${classes.join(" ")}" data-state="${escapeXml(node.path)}" data-id="${escapeXml(node.id)}">`,
      `${indent}  <title>${escapeXml(`${node.id} (${node.type})`)}</title>`,
      `${indent}  <rect class="palm-box" x="${n(x)}" y="${n(y)}" width="${n(placed.width)}" height="${n(placed.height)}" rx="${n(radius)}"/>`,
    ];
    if (node.type === "final") {
      lines.push(
        `${indent}  <rect class="palm-box palm-final-inner" x="${n(x + 3)}" y="${n(y + 3)}" width="${n(placed.width - 6)}" height="${n(placed.height - 6)}" rx="6" fill="none"/>`,
      );
    }
    const textX = placed.container ? x + 10 : x + placed.width / 2;
    const anchor = placed.container ? "start" : "middle";
    const textY = placed.container ? y + 18 : y + (node.detail ? 14 : placed.height / 2);
    const label = node.type === "history" ? `H ${node.key}` : node.key;
    lines.push(
      `${indent}  <text class="palm-label" x="${n(textX)}" y="${n(textY)}" text-anchor="${anchor}" dominant-baseline="central">${escapeXml(label)}</text>`,
    );
    if (node.detail) {
      lines.push(
        `${indent}  <text class="palm-detail" x="${n(textX)}" y="${n(textY + 16)}" text-anchor="${anchor}" dominant-baseline="central">${escapeXml(node.detail)}</text>`,
      );
    }
    for (const child of childrenOf.get(node.id) ?? []) lines.push(...drawNode(child, depth + 1));
    lines.push(`${indent}</g>`);
    return lines;
  };

  const edgeLines: string[] = [];
  const labelLines: string[] = [];
  for (const laid of layout.edges) {
    const classes = laid.edge?.internal ? "palm-edge palm-internal" : "palm-edge";
    const attributes = laid.edge
      ? ` data-source="${escapeXml(laid.edge.source)}" data-target="${escapeXml(laid.edge.target)}" data-event="${escapeXml(laid.edge.event)}"`
      : "";
    for (const section of laid.sections) {
      edgeLines.push(
        `    <path class="${classes}"${attributes} d="${pathData(section)}" marker-end="url(#palm-arrow)"/>`,
      );
    }
    if (laid.label) {
      const { x, y, width: labelWidth, text } = laid.label;
      const boxHeight = FONT_SIZE + 6;
      labelLines.push(
        `    <rect class="palm-edge-label-bg" x="${n(x)}" y="${n(y)}" width="${n(labelWidth)}" height="${n(boxHeight)}" rx="3"/>`,
        `    <text class="palm-edge-label" x="${n(x + labelWidth / 2)}" y="${n(y + boxHeight / 2)}" text-anchor="middle" dominant-baseline="central">${escapeXml(text)}</text>`,
      );
    }
  }

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" class="palm-statechart" data-graph="${escapeXml(graph.id)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">`,
    `  <title>${escapeXml(graph.id)}</title>`,
    "  <defs>",
    '    <marker id="palm-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">',
    '      <path d="M0 0 L10 5 L0 10 z" fill="#64748b"/>',
    "    </marker>",
    `    <style>${STYLE}</style>`,
    "  </defs>",
    `  <rect width="${width}" height="${height}" fill="#ffffff"/>`,
    '  <g class="palm-nodes">',
    ...(childrenOf.get(null) ?? []).flatMap((placed) => drawNode(placed, 2)),
    "  </g>",
    '  <g class="palm-edges">',
    ...layout.initialDots.map(
      (dot) => `    <circle class="palm-initial" cx="${n(dot.x)}" cy="${n(dot.y)}" r="5"/>`,
    ),
    ...edgeLines,
    "  </g>",
    '  <g class="palm-edge-labels">',
    ...labelLines,
    "  </g>",
    "</svg>",
    "",
  ].join("\n");
}
