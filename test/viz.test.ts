import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AnyStateMachine, type AnyStateNode, and, assign, fromPromise, not, setup } from "xstate";
import { dotId, machineToGraph, mermaidId, toDot, toJson, toMermaid, toSvg } from "../src/viz/index.js";

// ---- Sample machines: every construct the drawings must show --------------------------------------

const traffic = setup({
  guards: { isNight: () => false, isRushHour: () => true },
  actions: { count: () => {}, beep: () => {} },
  delays: { PEDESTRIAN_DELAY: 3000 },
}).createMachine({
  id: "traffic",
  initial: "green",
  on: { POWER_OFF: ".off", PING: { actions: "beep" } },
  states: {
    green: {
      on: { TIMER: { target: "yellow", guard: "isRushHour", actions: "count" }, TICK: { actions: "count" } },
      after: { 5000: "yellow" },
    },
    yellow: { after: { 1000: { target: "red", guard: not("isNight") } } },
    red: {
      initial: "walk",
      on: { RESET: { target: "red", reenter: true } },
      states: {
        walk: { after: { PEDESTRIAN_DELAY: "wait" } },
        wait: { on: { COUNTDOWN: "stop" } },
        stop: { type: "final" },
      },
      onDone: "green",
    },
    off: { type: "final" },
  },
});

const part = setup({
  guards: { hasBacklog: () => false, canRetry: () => true },
  actions: { recordError: assign({}), send: () => {} },
  actors: { bridge: fromPromise(async () => undefined) },
}).createMachine({
  id: "part",
  initial: "connecting",
  states: {
    connecting: {
      invoke: { src: "bridge", onDone: "running", onError: { target: "failed", actions: "recordError" } },
    },
    running: {
      type: "parallel",
      on: {
        "xstate.error.actor.*": { target: "failed", actions: "recordError" },
        "*": { actions: "recordError" },
        CRASH: "failed",
      },
      states: {
        inbound: {
          initial: "idle",
          states: {
            idle: { on: { "part.receive": "busy" } },
            busy: {
              always: [{ target: "idle", guard: and(["canRetry", not("hasBacklog")]) }],
              on: { DONE: "idle" },
            },
            resume: { type: "history", history: "deep" },
          },
        },
        outbound: {
          initial: "ready",
          states: {
            ready: { on: { "part.send": { target: "awaitingPeer", actions: "send" } } },
            awaitingPeer: { on: { "part.reply": "ready", "part.timeout": "#part.failed" } },
          },
        },
      },
    },
    failed: { on: { RESTART: { target: "connecting", guard: "canRetry" } }, after: { 100: "stopped" } },
    stopped: { type: "final" },
  },
});

const oddNames = setup({}).createMachine({
  id: "odd-machine:1",
  initial: "wait-for peer",
  states: {
    "wait-for peer": { on: { "go/now": "a<b&c>", 'say "hi"': { actions: () => {} } } },
    "a<b&c>": { on: { end: "state" } },
    state: { type: "final" },
  },
});

const samples: Record<string, AnyStateMachine> = { traffic, part, oddNames };

// ---- An independent walk of the machine: what every drawing must contain ----------------------------

/** One expected edge; `guard` is the guard's name, `null` if unnamed, `undefined` if unguarded. */
type Expected = {
  source: string;
  target: string;
  event: string;
  guard: string | null | undefined;
  internal: boolean;
};

function statesOf(machine: AnyStateMachine): AnyStateNode[] {
  const walk = (node: AnyStateNode): AnyStateNode[] => [node, ...Object.values(node.states).flatMap(walk)];
  return walk(machine.root);
}

function transitionsOf(machine: AnyStateMachine): Expected[] {
  return statesOf(machine).flatMap((node) => {
    const list = (event: string, t: { target?: readonly AnyStateNode[] | undefined; guard?: unknown }) => {
      const guard = t.guard === undefined ? undefined : typeof t.guard === "string" ? t.guard : null;
      const targets = t.target?.map((target) => target.id) ?? [];
      if (targets.length === 0) return [{ source: node.id, target: node.id, event, guard, internal: true }];
      return targets.map((target) => ({ source: node.id, target, event, guard, internal: false }));
    };
    return [
      // `on` lists delayed transitions under `xstate.after.*`; they are taken from `after` instead.
      ...Object.entries(node.on)
        .filter(([event]) => !event.startsWith("xstate.after."))
        .flatMap(([event, ts]) => ts.flatMap((t) => list(event, t))),
      ...node.after.flatMap((t) => list(`after ${t.delay}${typeof t.delay === "number" ? "ms" : ""}`, t)),
      ...(node.always ?? []).flatMap((t) => list("always", t)),
    ];
  });
}

/** The label every renderer must show: exact, or (unnamed guard) a prefix. */
function labelOf(t: Expected): { text: string; exact: boolean } {
  if (t.guard === undefined) return { text: t.event, exact: true };
  return t.guard === null
    ? { text: `${t.event} [`, exact: false }
    : { text: `${t.event} [${t.guard}]`, exact: true };
}

const matchesLabel = (label: string, t: Expected): boolean =>
  labelOf(t).exact ? label === labelOf(t).text : label.startsWith(labelOf(t).text);

// ---- A strict little XML reader for the SVG ----------------------------------------------------------

type XmlElement = { name: string; attributes: Map<string, string>; children: XmlElement[]; text: string };

const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
function decodeXml(raw: string): string {
  if (raw.replace(ENTITY, "").includes("&")) throw new Error(`bare & in ${raw}`);
  return raw.replace(ENTITY, (entity) => {
    const body = entity.slice(1, -1);
    if (!body.startsWith("#")) return NAMED[body] ?? entity;
    return String.fromCodePoint(body[1] === "x" ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1)));
  });
}

/** Parses well-formed XML or throws: every character in a token, balanced tags, unique quoted attributes. */
function parseXml(xml: string): XmlElement {
  const token =
    /<!--[\s\S]*?-->|<\/([\w:.-]+)\s*>|<([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)|([\s\S])/y;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const body = xml.replace(/^<\?xml [^?]*\?>/, "");
  for (let match = token.exec(body); match; match = token.exec(body)) {
    const [, closing, tag, attributeText = "", selfClosing, text, stray] = match;
    if (stray !== undefined)
      throw new Error(`unexpected ${stray} at ${match.index}: ${body.slice(match.index, match.index + 30)}`);
    if (text !== undefined) {
      const parent = stack.at(-1);
      if (parent) parent.text += decodeXml(text);
      else if (text.trim() !== "") throw new Error(`text outside the root: ${text}`);
    } else if (closing !== undefined) {
      if (stack.pop()?.name !== closing) throw new Error(`unbalanced </${closing}>`);
    } else if (tag !== undefined) {
      const element: XmlElement = { name: tag, attributes: new Map(), children: [], text: "" };
      for (const [, name = "", double, single] of attributeText.matchAll(
        /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g,
      )) {
        if (element.attributes.has(name)) throw new Error(`duplicate attribute ${name} on <${tag}>`);
        element.attributes.set(name, decodeXml(double ?? single ?? ""));
      }
      if (stack.length === 0 && root) throw new Error(`second root <${tag}>`);
      (stack.at(-1)?.children ?? []).push(element);
      root ??= element;
      if (!selfClosing) stack.push(element);
    }
  }
  if (stack.length > 0 || !root) throw new Error(`unclosed <${stack.at(-1)?.name}> or no root`);
  return root;
}

const descendants = (el: XmlElement): XmlElement[] =>
  el.children.flatMap((child) => [child, ...descendants(child)]);
const allText = (el: XmlElement): string => el.text + el.children.map(allText).join("");

// ---- Tests --------------------------------------------------------------------------------------------

describe("the XML reader used on SVG output", () => {
  it("rejects mismatched tags, bare ampersands, raw < in attributes and two roots", () => {
    assert.throws(() => parseXml("<a><b></a></b>"));
    assert.throws(() => parseXml("<a>fish & chips</a>"));
    assert.throws(() => parseXml('<a title="x<y"/>'));
    assert.throws(() => parseXml("<a/><b/>"));
    assert.throws(() => parseXml("<a>"));
    assert.equal(allText(parseXml('<?xml version="1.0"?><a x="&lt;">1 &amp; <b>2</b></a>')), "1 & 2");
  });
});

for (const [name, machine] of Object.entries(samples)) {
  describe(`drawing the ${name} machine`, () => {
    const graph = machineToGraph(machine);
    const states = statesOf(machine);
    const transitions = transitionsOf(machine);
    const edgeKey = (e: { source: string; target: string; event: string }) =>
      `${e.source}|${e.target}|${e.event}`;

    it("walks every state node and every transition into the graph", () => {
      assert.ok(transitions.length >= 3, "the sample has transitions");
      assert.deepEqual(
        graph.nodes.map((node) => [node.id, node.key, node.parent, node.type, node.path]),
        states.map((node) => [node.id, node.key, node.parent?.id ?? null, node.type, node.path.join(".")]),
      );
      const drawn = graph.edges.map((edge) => `${edgeKey(edge)}|${edge.internal === true}|${edge.guard}`);
      const wanted = transitions.map((t) => {
        const guard = t.guard === null ? graph.edges.find((e) => edgeKey(e) === edgeKey(t))?.guard : t.guard;
        return `${edgeKey(t)}|${t.internal}|${guard}`;
      });
      assert.deepEqual(drawn.sort(), wanted.sort());
      for (const node of states.filter((state) => state.type === "compound")) {
        for (const { id } of node.initial.target) {
          assert.equal(graph.nodes.find((n) => n.id === id)?.initial, true, `${id} is initial`);
        }
      }
    });

    it("writes Mermaid with nested blocks, [*] markers and every labelled transition", () => {
      const mermaid = toMermaid(graph);
      assert.match(mermaid, /^stateDiagram-v2\n/);
      const declared = new Map<string, { label: string; parent: string | undefined }>();
      const edges: string[] = [];
      const blocks: string[] = [];
      const dividers = new Map<string, number>();
      const inBlocks: string[][] = [];
      const decode = (text: string) =>
        text.replace(/#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
      for (const line of mermaid.split("\n").map((text) => text.trim())) {
        const declaration = /^state "(.*)" as (\S+)$/.exec(line);
        const open = /^state (\S+) \{$/.exec(line);
        if (declaration)
          declared.set(declaration[2] ?? "", { label: decode(declaration[1] ?? ""), parent: blocks.at(-1) });
        else if (open) blocks.push(open[1] ?? "");
        else if (line === "}") blocks.pop();
        else if (line === "--")
          dividers.set(blocks.at(-1) ?? "", (dividers.get(blocks.at(-1) ?? "") ?? 0) + 1);
        else if (line.includes(" --> ")) {
          edges.push(decode(line));
          const block = blocks.at(-1);
          if (block)
            inBlocks.push([block, ...line.split(" ", 3).filter((id) => id !== "-->" && id !== "[*]")]);
        }
      }
      assert.equal(blocks.length, 0, "every block is closed");
      // Mermaid moves a state into the last block naming it, so blocks may only link their own children.
      for (const [block, ...ends] of inBlocks) {
        for (const end of ends) assert.equal(declared.get(end)?.parent, block, `${end} belongs in ${block}`);
      }
      for (const node of states) {
        const id = mermaidId(node.id);
        assert.match(id, /^[A-Za-z0-9_]+$/);
        assert.ok(declared.get(id)?.label.includes(node.key), `${node.id} is declared with its key`);
        assert.equal(
          declared.get(id)?.parent,
          node.parent && mermaidId(node.parent.id),
          `${node.id}'s block`,
        );
        const initials = node.type === "compound" ? node.initial.target : [];
        for (const { id: initial } of initials)
          assert.ok(edges.includes(`[*] --> ${mermaidId(initial)}`), initial);
        if (node.type === "final") assert.ok(edges.includes(`${id} --> [*]`), `${node.id} is final`);
        if (node.type === "parallel") assert.equal(dividers.get(id), Object.keys(node.states).length - 1);
      }
      for (const t of transitions) {
        const prefix = `${mermaidId(t.source)} --> ${mermaidId(t.target)} : `;
        const found = edges.some(
          (edge) => edge.startsWith(prefix) && matchesLabel(edge.slice(prefix.length), t),
        );
        assert.ok(found, `Mermaid shows ${prefix}${labelOf(t).text}`);
      }
    });

    it("writes DOT with a cluster per compound state and every labelled transition", () => {
      const dot = toDot(graph);
      const unquoted = dot.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      assert.equal(unquoted.split("{").length, unquoted.split("}").length, "braces balance");
      for (const node of states) {
        const cluster = Object.keys(node.states).length > 0;
        const declaration = cluster
          ? `subgraph ${dotId(`cluster_${node.id}`)} {`
          : `${dotId(node.id)} [label=`;
        assert.ok(dot.includes(declaration), `DOT declares ${node.id}`);
        assert.ok(dot.includes(`label=${dotId(node.key)}`), `DOT labels ${node.key}`);
      }
      const lines = dot.split("\n").map((line) => line.trim());
      for (const t of transitions) {
        const { text, exact } = labelOf(t);
        const head = `${dotId(t.source)} -> ${dotId(t.target)} [label=${exact ? dotId(text) : dotId(text).slice(0, -1)}`;
        assert.ok(
          lines.some((line) => line.startsWith(head)),
          `DOT shows ${head}`,
        );
      }
    });

    it("writes JSON holding exactly the states and transitions", () => {
      const parsed = JSON.parse(toJson(graph)) as typeof graph;
      assert.deepEqual(
        parsed.nodes.map((node) => node.id),
        states.map((node) => node.id),
      );
      const drawn = parsed.edges.map(
        (edge) => `${edgeKey(edge)}|${edge.guard !== undefined}|${edge.internal === true}`,
      );
      const wanted = transitions.map((t) => `${edgeKey(t)}|${t.guard !== undefined}|${t.internal}`);
      assert.deepEqual(drawn.sort(), wanted.sort());
      for (const t of transitions.filter((t) => typeof t.guard === "string")) {
        const found = parsed.edges.some((edge) => edgeKey(edge) === edgeKey(t) && edge.guard === t.guard);
        assert.ok(found, `JSON keeps guard ${t.guard} on ${edgeKey(t)}`);
      }
    });

    it("draws a well-formed SVG naming every state and carrying every transition", async () => {
      const svg = parseXml(await toSvg(graph));
      assert.equal(svg.name, "svg");
      assert.equal(svg.attributes.get("xmlns"), "http://www.w3.org/2000/svg");
      const all = descendants(svg);
      const groups = new Map(all.map((el) => [el.attributes.get("data-id"), el]));
      for (const node of states) {
        const group = groups.get(node.id);
        assert.equal(group?.attributes.get("data-state"), node.path.join("."), `SVG node for ${node.id}`);
        const label = group?.children.find((child) => child.name === "text");
        assert.ok(label?.text.includes(node.key), `SVG names ${node.key}`);
      }
      const arrows = all.filter((el) => el.name === "path" && el.attributes.has("data-event"));
      const arrowKeys = new Set(
        arrows.map((el) =>
          ["data-source", "data-target", "data-event"].map((a) => el.attributes.get(a)).join("|"),
        ),
      );
      const labels = all
        .filter((el) => el.attributes.get("class") === "palm-edge-label")
        .map((el) => el.text);
      for (const t of transitions) {
        assert.ok(arrowKeys.has(edgeKey(t)), `SVG draws ${edgeKey(t)}`);
        assert.ok(
          labels.some((label) => matchesLabel(label, t)),
          `SVG labels ${labelOf(t).text}`,
        );
      }
      const external = all.filter(
        (el) => ["image", "script", "foreignObject"].includes(el.name) || el.attributes.has("href"),
      );
      assert.deepEqual(external, [], "the SVG references nothing external");
    });
  });
}
