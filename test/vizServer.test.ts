import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  dotId,
  mermaidId,
  type ServerDescription,
  serverToGraph,
  toDot,
  toJson,
  toMermaid,
  toSvg,
} from "../src/viz/index.js";

/** A master-like server: inbound parts routed to outbounds, a blocking REP, a bypass cache. */
const master: ServerDescription = {
  name: "master",
  parts: [
    { name: "pull", kind: "inbound", partType: "PullService", route: "workerPush" },
    { name: "workerPush", kind: "outbound", partType: "WorkerPushService" },
    { name: "workerPull", kind: "inbound", partType: "WorkerPullService", route: "execute" },
    { name: "execute", kind: "outbound", partType: "ReqConnection", route: "pub" },
    { name: "pub", kind: "outbound", partType: "PubService" },
    { name: "rep", kind: "inbound", partType: "RepService", route: "execute", block: true, reroute: "pub" },
    { name: "cache", kind: "bypass", partType: "CacheService" },
  ],
};

const edgesOf = (graph: { edges: readonly { source: string; target: string; event: string }[] }) =>
  graph.edges.map((edge) => `${edge.source} -> ${edge.target} : ${edge.event}`);

describe("serverToGraph", () => {
  const { supervision, routing } = serverToGraph(master);
  const idOf = (name: string) => supervision.nodes.find((node) => node.key === name)?.id ?? "";

  it("draws the supervision tree as server → router → every part, bypass parts included", () => {
    assert.equal(supervision.kind, "supervision");
    assert.deepEqual(
      supervision.nodes.map((node) => node.key),
      ["master", "router", ...master.parts.map((part) => part.name)],
    );
    assert.deepEqual(edgesOf(supervision), [
      `${idOf("master")} -> ${idOf("router")} : `,
      ...master.parts.map((part) => `${idOf("router")} -> ${idOf(part.name)} : `),
    ]);
  });

  it("labels routes `route`, blocking routes `block` and feedback routes `reroute`", () => {
    assert.equal(routing.kind, "routing");
    assert.deepEqual(edgesOf(routing), [
      `${idOf("pull")} -> ${idOf("workerPush")} : route`,
      `${idOf("workerPull")} -> ${idOf("execute")} : route`,
      `${idOf("execute")} -> ${idOf("pub")} : reroute`,
      `${idOf("rep")} -> ${idOf("execute")} : block`,
      `${idOf("rep")} -> ${idOf("pub")} : reroute`,
    ]);
    const cache = routing.nodes.find((node) => node.key === "cache");
    assert.equal(cache?.detail, "bypass CacheService");
  });

  it("draws a route to a part that does not exist to a node marked unknown", () => {
    const { routing: broken } = serverToGraph({
      name: "broken",
      parts: [{ name: "pull", kind: "inbound", partType: "PullService", route: "nowhere" }],
    });
    assert.equal(broken.nodes.find((node) => node.key === "nowhere")?.detail, "unknown part");
    assert.equal(broken.edges.length, 1);
  });

  for (const [name, graph] of Object.entries({ supervision, routing })) {
    it(`renders the ${name} graph as Mermaid, DOT, JSON and SVG naming every part and link`, async () => {
      const mermaid = toMermaid(graph);
      const dot = toDot(graph);
      const json = JSON.parse(toJson(graph)) as typeof graph;
      const svg = await toSvg(graph);
      for (const node of graph.nodes) {
        assert.ok(
          mermaid.includes(`state "${node.key}" as ${mermaidId(node.id)}`),
          `Mermaid declares ${node.key}`,
        );
        const declaration = `${dotId(node.id)} [label=${dotId(`${node.key}\n${node.detail}`)}`;
        assert.ok(dot.includes(declaration), `DOT declares ${declaration}`);
        assert.ok(svg.includes(`>${node.key}</text>`), `SVG names ${node.key}`);
      }
      for (const edge of graph.edges) {
        const label = edge.event ? ` : ${edge.event}` : "";
        const line = `${mermaidId(edge.source)} --> ${mermaidId(edge.target)}${label}\n`;
        assert.ok(mermaid.includes(line), `Mermaid shows ${line}`);
        assert.ok(dot.includes(`${dotId(edge.source)} -> ${dotId(edge.target)}`), `DOT links ${edge.source}`);
      }
      assert.deepEqual(json, JSON.parse(JSON.stringify(graph)));
      assert.equal(svg.match(/<path class="palm-edge"/g)?.length, graph.edges.length);
    });
  }
});
