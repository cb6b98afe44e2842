/**
 * palm-actors/viz: static drawings of palm's statecharts and servers: Mermaid, DOT, JSON and SVG.
 *
 * @module palm-actors/viz
 */
export { escapeXml } from "./escapeXml.js";
export { machineToGraph } from "./machineToGraph.js";
export type {
  StateGraph,
  StateGraphEdge,
  StateGraphKind,
  StateGraphNode,
  StateGraphNodeType,
} from "./StateGraph.js";
export { edgeLabel } from "./StateGraph.js";
export type {
  ServerDescription,
  ServerGraphs,
  ServerPartDescription,
  ServerPartKind,
} from "./serverToGraph.js";
export { serverToGraph } from "./serverToGraph.js";
export { dotId, toDot } from "./toDot.js";
export { toJson } from "./toJson.js";
export { mermaidId, toMermaid } from "./toMermaid.js";
export { toSvg } from "./toSvg.js";
