#!/usr/bin/env node
// The `palm` command line: demo, viz, inspect, bench, keygen.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { machines } from "../machines/index.js";
import { runDemo } from "./demo/demo.js";
import { isPalmError } from "./errors.js";
import * as palm from "./index.js";
import { importUserModule, UserModuleError } from "./loadUserModule.js";
import type { PartDefinition } from "./part.js";
import { keygen } from "./security/curveKeys.js";
import { ServerTemplate } from "./serverTemplate.js";
import { checkInteger } from "./validate.js";
import { machineToGraph } from "./viz/machineToGraph.js";
import { checkFormat, renderGraph } from "./viz/render.js";
import type { StateGraph } from "./viz/StateGraph.js";
import { serverToGraph } from "./viz/serverToGraph.js";

const USAGE = `palm — clusters of small, fast servers built from supervised actor parts over ZeroMQ

Usage: palm <command> [options]

Commands:
  demo                 Run a Master, Workers and a Client as separate processes on loopback,
                       print the results and a summary.
                         --messages N     messages to send (default 10)
                         --workers W      worker processes (default 2)
                         --inspect PORT   serve the cluster inspector (master and workers) on PORT,
                                          send a job a second, and wait for Ctrl-C
                         --record FILE    with --inspect: record what the page shows (JSON lines)
  inspect URL…         Serve one page joining several inspectors (a Master's and its workers',
                       a pipeline's stages): processes, message lanes, supervision, statecharts.
                       A Master's inspector names its workers' (those started with inspect):
                       they are joined as they appear, so the Master's URL alone is enough.
                         --no-discover    join only the URLs given
                         --port N         port of the page (default 0: any free port)
                         --host HOST      interface of the page (default 127.0.0.1)
                         --record FILE    also record what the page shows (JSON lines)
  inspect --replay FILE…  Serve the same page from recorded traces (merged by time), with a
                       timeline: play, pause, step, jump to a failure.
  viz <Part|machine>   Draw a part's statechart (default format: Mermaid stateDiagram-v2).
  viz --server FILE    Draw a server module's supervision tree, routing table and statecharts.
  viz --list           List what can be drawn.
                         --format mermaid|dot|json|svg   (default mermaid)
                         -o, --output FILE                write to FILE instead of stdout
  bench                Measure palm against a raw zeromq.js chain and Moleculer, from a checkout
                       (palm bench --help).
  keygen               Print a new CURVE keypair (Z85).
  help                 Show this help.

Options:
  -h, --help           Show this help.
  -v, --version        Show palm's version.
`;

/** Every part kind palm exports, by name. */
function partCatalog(): Map<string, PartDefinition> {
  const parts = new Map<string, PartDefinition>();
  for (const [name, value] of Object.entries(palm)) {
    const candidate = value as Partial<PartDefinition> | undefined;
    if (
      candidate &&
      typeof candidate === "object" &&
      typeof candidate.partType === "string" &&
      candidate.machine
    ) {
      parts.set(name, candidate as PartDefinition);
    }
  }
  return parts;
}

async function emit(text: string, output: string | undefined): Promise<void> {
  if (output) writeFileSync(output, text.endsWith("\n") ? text : `${text}\n`);
  else process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Finds the server a module exports: a ServerTemplate, or a server whose `.template` is one. */
function findTemplate(module: Record<string, unknown>): ServerTemplate | undefined {
  for (const value of [module.default, ...Object.values(module)]) {
    if (isTemplate(value)) return value;
    const template = (value as { template?: unknown } | null)?.template;
    if (isTemplate(template)) return template;
  }
  return undefined;
}

/**
 * Whether `value` is a ServerTemplate — by shape, not `instanceof`: the module may load palm through
 * another path than this CLI (the package's `dist/` while the CLI runs from source, or a second copy).
 */
function isTemplate(value: unknown): value is ServerTemplate {
  if (value instanceof ServerTemplate) return true;
  const candidate = value as Partial<ServerTemplate> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.describe === "function" &&
    typeof candidate.definitions === "function" &&
    typeof candidate.registerInbound === "function"
  );
}

async function viz(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "mermaid" },
      output: { type: "string", short: "o" },
      server: { type: "string" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const format = checkFormat(values.format);
  const parts = partCatalog();
  if (values.list) {
    const lines = ["Parts:"];
    for (const [name, part] of [...parts].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`  ${name.padEnd(22)} ${part.role.padEnd(8)} ${part.summary}`);
    }
    lines.push("Machines:", ...Object.keys(machines).map((name) => `  ${name}`));
    await emit(lines.join("\n"), values.output);
    return 0;
  }
  const graphs: Array<[string, StateGraph]> = [];
  if (values.server) {
    const module = await importUserModule(values.server);
    const template = findTemplate(module);
    if (!template) {
      console.error(`palm viz: ${values.server} exports no server (a ServerTemplate, Master, Server, …)`);
      return 2;
    }
    const { supervision, routing } = serverToGraph(template.describe());
    graphs.push(["supervision", supervision], ["routing", routing]);
    const seen = new Set<string>();
    for (const { part } of template.definitions()) {
      if (seen.has(part.partType)) continue;
      seen.add(part.partType);
      graphs.push([part.partType, machineToGraph(part.machine)]);
    }
  } else {
    const name = positionals[0];
    if (!name) {
      console.error("palm viz: name a part (palm viz PushService), or use --server FILE or --list");
      return 2;
    }
    const machine =
      parts.get(name)?.machine ??
      (machines as Record<string, (typeof machines)[keyof typeof machines]>)[name];
    if (!machine) {
      console.error(`palm viz: no part or machine named "${name}" (palm viz --list shows them)`);
      return 2;
    }
    graphs.push([name, machineToGraph(machine)]);
  }
  if (format === "svg" && graphs.length > 1) {
    const base = values.output?.replace(/\.svg$/, "") ?? "palm-viz";
    for (const [name, graph] of graphs) {
      const file = `${base}.${name}.svg`;
      writeFileSync(file, await renderGraph(graph, "svg"));
      console.error(`wrote ${file}`);
    }
    return 0;
  }
  const sections: string[] = [];
  for (const [name, graph] of graphs) {
    const text = await renderGraph(graph, format);
    if (graphs.length === 1) sections.push(text);
    else if (format === "json") sections.push(text);
    else sections.push(`${format === "dot" ? "//" : "%%"} ${name}\n${text}`);
  }
  await emit(
    format === "json" && graphs.length > 1 ? `[${sections.join(",\n")}]` : sections.join("\n\n"),
    values.output,
  );
  return 0;
}

async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      messages: { type: "string", default: "10" },
      workers: { type: "string", default: "2" },
      inspect: { type: "string" },
      record: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.record !== undefined && values.inspect === undefined) {
    console.error("palm demo: --record needs --inspect PORT");
    return 2;
  }
  const messages = checkInteger("--messages", Number(values.messages), 1);
  const workers = checkInteger("--workers", Number(values.workers), 1, 64);
  const inspect =
    values.inspect === undefined ? undefined : checkInteger("--inspect", Number(values.inspect), 0, 65535);
  return runDemo({
    messages,
    workers,
    ...(inspect !== undefined ? { inspect } : {}),
    ...(values.record !== undefined ? { record: values.record } : {}),
  });
}

async function inspect(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      record: { type: "string" },
      replay: { type: "string", multiple: true },
      "no-discover": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = checkInteger("--port", Number(values.port), 0, 65535);
  const { createClusterServer } = await import("./inspector/createClusterServer.js");
  const replay = [...(values.replay ?? []), ...(values.replay ? positionals : [])];
  let page: Awaited<ReturnType<typeof createClusterServer>>;
  let close = async () => {};
  if (replay.length > 0) {
    const { readTraces } = await import("./inspector/readTrace.js");
    const { replayStore } = await import("./inspector/replayStore.js");
    const { records, processes, sources } = readTraces(replay);
    const source = replayStore(records, processes, sources);
    page = await createClusterServer({ port, host: values.host, source, trace: records });
    console.log(`palm inspect: replaying ${records.length} records of ${replay.join(", ")} at ${page.url}`);
  } else {
    if (positionals.length === 0) {
      console.error("palm inspect: name one or more inspector URLs, or --replay FILE");
      return 2;
    }
    const { joinInspectors } = await import("./inspector/joinInspectors.js");
    const joined = await joinInspectors(positionals, {
      ...(values.record ? { record: values.record } : {}),
      discover: !values["no-discover"],
    });
    close = () => joined.close();
    page = await createClusterServer({ port, host: values.host, source: joined.store });
    const found = values["no-discover"] ? "" : " (and the workers they name, as they appear)";
    console.log(`palm inspect: ${positionals.length} inspector(s) joined${found} at ${page.url}`);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await page.close();
  await close();
  return 0;
}

async function bench(args: string[]): Promise<number> {
  // The bench lives in the repository's bench/ folder, beside src/ (and beside dist/src/ once built), and
  // is not published: an installed package says where to run it from.
  const entry = new URL("../bench/command.js", import.meta.url).href;
  let benchCommand: (argv: string[]) => Promise<number>;
  try {
    ({ benchCommand } = (await import(entry)) as { benchCommand(argv: string[]): Promise<number> });
  } catch (error) {
    const missing = error as { code?: unknown; url?: unknown };
    if (missing.code !== "ERR_MODULE_NOT_FOUND" || missing.url !== entry) throw error;
    process.stderr.write(
      "palm bench runs from a checkout of palm's repository (npm ci, then npm run palm -- bench, or\n" +
        "npm run build and node dist/src/cli.js bench); the published package carries the runtime only.\n",
    );
    return 2;
  }
  return benchCommand(args);
}

async function version(): Promise<string> {
  const { readFileSync } = await import("node:fs");
  for (const candidate of ["../package.json", "../../package.json"]) {
    try {
      return (JSON.parse(readFileSync(new URL(candidate, import.meta.url), "utf8")) as { version: string })
        .version;
    } catch {
      // try the next place: dist/src/cli.js sits one level deeper than src/cli.ts
    }
  }
  return "unknown";
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "help":
    case "-h":
    case "--help":
      process.stdout.write(USAGE);
      return 0;
    case "-v":
    case "--version":
      console.log(await version());
      return 0;
    case "demo":
      return demo(rest);
    case "viz":
      return viz(rest);
    case "inspect":
      return inspect(rest);
    case "bench":
      return bench(rest);
    case "keygen":
      process.stdout.write(keygen());
      return 0;
    default:
      console.error(`palm: unknown command "${command}"\n`);
      process.stderr.write(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Bad input (an option, a file that is not there or cannot be written, a module that fails to load):
    // one line saying so, not an internal stack. Anything else is palm's own bug: its stack helps.
    const said =
      isPalmError(error) ||
      error instanceof TypeError ||
      error instanceof UserModuleError ||
      typeof (error as NodeJS.ErrnoException | undefined)?.syscall === "string";
    if (said) console.error(`palm: ${(error as Error).message}`);
    else console.error(error);
    process.exitCode = 1;
  },
);
