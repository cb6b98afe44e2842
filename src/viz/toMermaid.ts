import { childrenByParent, edgeLabel, type StateGraph, type StateGraphNode } from "./StateGraph.js";

/**
 * The Mermaid identifier of a graph node id: `n_` then the id with `_` doubled, `.` as `_d` and any
 * other character Mermaid cannot take as `_x<hex>_`. The code is prefix-free, so distinct ids stay
 * distinct, and the `n_` prefix keeps ids clear of Mermaid keywords (`end`, `state`, `note`).
 */
export function mermaidId(id: string): string {
  let out = "n_";
  for (const char of id) {
    if (/[A-Za-z0-9]/.test(char)) out += char;
    else if (char === "_") out += "__";
    else if (char === ".") out += "_d";
    else out += `_x${char.codePointAt(0)?.toString(16)}_`;
  }
  return out;
}

/** Text safe inside a Mermaid label: characters Mermaid parses are written as entity codes. */
function mermaidText(text: string): string {
  return text.replace(/[#";<>{}]/g, (char) => `#${char.codePointAt(0)};`);
}

/**
 * Renders a graph as a Mermaid `stateDiagram-v2`: compound states as nested `state X { … }` blocks,
 * parallel regions separated by `--`, `[*] -->` into initial states, `--> [*]` out of final states
 * and edges labelled `event [guard]`. An edge between siblings is written inside their block; any
 * other edge at the top level, because Mermaid moves a state into the last block that mentions it
 * (mermaid-js/mermaid#5290) but resolves top-level mentions without moving anything.
 *
 * @example
 * console.log(toMermaid(machineToGraph(machine)));
 */
export function toMermaid(graph: StateGraph): string {
  const children = childrenByParent(graph);
  const parents = new Map(graph.nodes.map((node) => [node.id, node.parent] as const));
  const edgesByContainer = new Map<string | null, string[]>();
  for (const edge of graph.edges) {
    const parent = parents.get(edge.source) ?? null;
    const container = parent !== null && parents.get(edge.target) === parent ? parent : null;
    const label = edgeLabel(edge);
    const line = `${mermaidId(edge.source)} --> ${mermaidId(edge.target)}${label ? ` : ${mermaidText(label)}` : ""}`;
    const lines = edgesByContainer.get(container);
    if (lines) lines.push(line);
    else edgesByContainer.set(container, [line]);
  }

  const out: string[] = ["stateDiagram-v2"];
  if (graph.kind === "supervision" || graph.kind === "routing") out.push("  direction LR");
  const writeBlock = (parent: StateGraphNode | null, depth: number): void => {
    const indent = "  ".repeat(depth);
    const kids = children.get(parent ? parent.id : null) ?? [];
    kids.forEach((node, index) => {
      if (parent?.type === "parallel" && index > 0) out.push(`${indent}--`);
      out.push(`${indent}state "${mermaidText(nodeLabel(node))}" as ${mermaidId(node.id)}`);
      if (node.detail) out.push(`${indent}${mermaidId(node.id)} : ${mermaidText(node.detail)}`);
      if ((children.get(node.id) ?? []).length > 0) {
        out.push(`${indent}state ${mermaidId(node.id)} {`);
        writeBlock(node, depth + 1);
        out.push(`${indent}}`);
      }
    });
    for (const node of kids) {
      if (node.initial) out.push(`${indent}[*] --> ${mermaidId(node.id)}`);
      if (node.type === "final") out.push(`${indent}${mermaidId(node.id)} --> [*]`);
    }
    for (const line of edgesByContainer.get(parent ? parent.id : null) ?? []) out.push(`${indent}${line}`);
  };
  writeBlock(null, 1);
  return `${out.join("\n")}\n`;
}

/** The name drawn for a node; history states say so, since Mermaid has no history pseudo-state. */
function nodeLabel(node: StateGraphNode): string {
  return node.type === "history" ? `${node.key} (history)` : node.key;
}
