import type { StateGraph, StateGraphEdge, StateGraphNode } from "./StateGraph.js";

/** How a part faces the router (SPEC §2): first message in, first message out, or router-free. */
export type ServerPartKind = "inbound" | "outbound" | "bypass";

/** One part of a server, as registered with the composition API. */
export interface ServerPartDescription {
  /** The part's unique name within the server. */
  readonly name: string;
  /** Whether the part is inbound, outbound or bypass. */
  readonly kind: ServerPartKind;
  /** The part's type, such as `PullService` or `PushConnection`. */
  readonly partType: string;
  /** For an inbound part: the outbound part it sends messages to; for an outbound: where feedback is rerouted. */
  readonly route?: string;
  /** Whether an inbound part waits for the feedback and answers its own peer with it. @default false */
  readonly block?: boolean;
  /** The outbound part the feedback is rerouted to once (the routed part's own `route`). */
  readonly reroute?: string;
  /** Outbound parts this part routes to by its own decision (a master's delivery part): edges `feeds`. */
  readonly feeds?: readonly string[];
}

/** A server's name and parts: everything {@link serverToGraph} needs to draw it. */
export interface ServerDescription {
  /** The server's name. */
  readonly name: string;
  /** Every part, in registration order. */
  readonly parts: readonly ServerPartDescription[];
}

/** The two drawings of a server. */
export interface ServerGraphs {
  /** Server → router → every part (bypass parts included: the router supervises them too). */
  readonly supervision: StateGraph;
  /** Inbound → outbound routing: edges `route`/`block` to the routed part, `reroute` onwards. */
  readonly routing: StateGraph;
}

/** Node id of a part in both graphs; the server and router use ids parts cannot take. */
const partId = (name: string): string => `router.${name}`;

/**
 * Draws a composed server as two graphs for `toMermaid`, `toDot`, `toJson` and `toSvg`: its
 * supervision tree and its routing table. A blocking inbound's edge is labelled `block` (the
 * feedback comes back to it), a non-blocking one's `route`; an outbound part's `route` and any
 * explicit `reroute` give a `reroute` edge.
 *
 * @example
 * const { supervision, routing } = serverToGraph({ name: "master", parts });
 * console.log(toMermaid(routing));
 */
export function serverToGraph(description: ServerDescription): ServerGraphs {
  const partNode = (part: ServerPartDescription): StateGraphNode => ({
    id: partId(part.name),
    key: part.name,
    parent: null,
    type: "atomic",
    initial: false,
    path: part.name,
    detail: `${part.kind} ${part.partType}`,
  });
  const parts = description.parts.map(partNode);

  const serverId = "server";
  const supervision: StateGraph = {
    id: description.name,
    kind: "supervision",
    nodes: [
      {
        id: serverId,
        key: description.name,
        parent: null,
        type: "atomic",
        initial: false,
        path: "",
        detail: "server",
      },
      {
        id: "router",
        key: "router",
        parent: null,
        type: "atomic",
        initial: false,
        path: "router",
        detail: "supervisor",
      },
      ...parts,
    ],
    edges: [
      { source: serverId, target: "router", event: "" },
      ...parts.map((part) => ({ source: "router", target: part.id, event: "" })),
    ],
  };

  // A route naming no part is drawn to a node marked `unknown part` rather than dropped: the
  // drawing is where such a mistake should be easiest to see.
  const routingNodes = [...parts];
  const known = new Set(description.parts.map((part) => part.name));
  const link = (from: string, to: string, event: string): StateGraphEdge => {
    if (!known.has(to)) {
      known.add(to);
      routingNodes.push({
        id: partId(to),
        key: to,
        parent: null,
        type: "atomic",
        initial: false,
        path: to,
        detail: "unknown part",
      });
    }
    return { source: partId(from), target: partId(to), event };
  };
  const routingEdges: StateGraphEdge[] = [];
  for (const part of description.parts) {
    if (part.route !== undefined) {
      const event = part.kind === "outbound" ? "reroute" : part.block ? "block" : "route";
      routingEdges.push(link(part.name, part.route, event));
    }
    if (part.reroute !== undefined) routingEdges.push(link(part.name, part.reroute, "reroute"));
    for (const to of part.feeds ?? []) routingEdges.push(link(part.name, to, "feeds"));
  }
  const routing: StateGraph = {
    id: `${description.name} routing`,
    kind: "routing",
    nodes: routingNodes,
    edges: routingEdges,
  };
  return { supervision, routing };
}
