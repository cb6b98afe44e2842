import { childrenByParent, edgeLabel, type StateGraph, type StateGraphNode } from "./StateGraph.js";

/** A DOT quoted string: `"` and `\` escaped, newlines as `\n`. */
export function dotId(text: string): string {
  return `"${text.replace(/["\\]/g, (char) => `\\${char}`).replace(/\n/g, "\\n")}"`;
}

/**
 * Renders a graph as Graphviz DOT. Compound and parallel states become clusters (`cluster_<id>`)
 * holding an anchor point named after the state: a compound's anchor is its initial-state dot, and
 * edges into or out of a cluster attach to the anchor with `lhead`/`ltail` so they end at its border.
 *
 * @example
 * writeFileSync("part.dot", toDot(machineToGraph(machine)));  // then: dot -Tsvg part.dot
 */
export function toDot(graph: StateGraph): string {
  const children = childrenByParent(graph);
  const byId = new Map(graph.nodes.map((node) => [node.id, node] as const));
  const isCluster = (id: string): boolean => (children.get(id) ?? []).length > 0;
  const isInside = (id: string, ancestor: string): boolean => {
    for (let at = byId.get(id)?.parent ?? null; at !== null; at = byId.get(at)?.parent ?? null) {
      if (at === ancestor) return true;
    }
    return false;
  };

  const out: string[] = [
    `digraph ${dotId(graph.id)} {`,
    "  compound=true;",
    `  rankdir=${graph.kind === "supervision" || graph.kind === "routing" ? "LR" : "TB"};`,
    '  fontname="Helvetica"; fontsize=12;',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=12];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];

  const writeNode = (node: StateGraphNode, depth: number): void => {
    const indent = "  ".repeat(depth);
    const label = node.detail ? `${node.key}\n${node.detail}` : node.key;
    if (!isCluster(node.id)) {
      const shape =
        node.type === "history" ? ", shape=circle" : node.type === "final" ? ", peripheries=2" : "";
      out.push(`${indent}${dotId(node.id)} [label=${dotId(label)}${shape}];`);
      return;
    }
    const style = node.type === "parallel" ? "rounded,dashed" : "rounded";
    out.push(`${indent}subgraph ${dotId(`cluster_${node.id}`)} {`);
    out.push(`${indent}  label=${dotId(label)}; style=${dotId(style)};`);
    const kids = children.get(node.id) ?? [];
    const initial = node.type === "parallel" ? undefined : kids.find((kid) => kid.initial);
    const anchorStyle = initial ? 'fillcolor="#000000", width=0.12' : "style=invis, width=0.01";
    out.push(`${indent}  ${dotId(node.id)} [shape=point, label="", ${anchorStyle}];`);
    for (const kid of kids) writeNode(kid, depth + 1);
    if (initial) {
      const lhead = isCluster(initial.id) ? `, lhead=${dotId(`cluster_${initial.id}`)}` : "";
      out.push(`${indent}  ${dotId(node.id)} -> ${dotId(initial.id)} [arrowsize=0.7${lhead}];`);
    }
    out.push(`${indent}}`);
  };
  for (const node of children.get(null) ?? []) writeNode(node, 1);

  for (const edge of graph.edges) {
    const attributes: string[] = [];
    const label = edgeLabel(edge);
    if (label) attributes.push(`label=${dotId(label)}`);
    if (edge.internal) attributes.push("style=dashed");
    if (edge.source !== edge.target) {
      if (isCluster(edge.source) && !isInside(edge.target, edge.source)) {
        attributes.push(`ltail=${dotId(`cluster_${edge.source}`)}`);
      }
      if (isCluster(edge.target) && !isInside(edge.source, edge.target)) {
        attributes.push(`lhead=${dotId(`cluster_${edge.target}`)}`);
      }
    }
    const list = attributes.length > 0 ? ` [${attributes.join(", ")}]` : "";
    out.push(`  ${dotId(edge.source)} -> ${dotId(edge.target)}${list};`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}
