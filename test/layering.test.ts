import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { ErrorCodes } from "../src/errors.js";

const root = join(import.meta.dirname, "..");

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return files(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

function imports(file: string): string[] {
  const source = readFileSync(join(root, file), "utf8");
  return [
    ...source.matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => (m[1] ?? m[2])!);
}

describe("layering", () => {
  it("machines import only xstate and each other (and the message type)", () => {
    for (const file of files("machines")) {
      for (const spec of imports(file)) {
        const allowed = spec === "xstate" || spec.startsWith("./") || spec === "../src/message.js";
        assert.ok(allowed, `${file} imports ${spec}`);
      }
    }
  });

  // Entry points sit on top of everything: the public API, the CLI and what it runs (demo), and the
  // `palm/testing` helpers. Every other kernel file works on part descriptors only.
  const entries = [join("src", "index.ts"), join("src", "cli.ts")];
  const entryDirs = [join("src", "demo"), join("src", "testing")];

  it("kernel files never import a concrete part: only the entry points reach into actors/", () => {
    for (const file of files("src")) {
      if (entries.includes(file) || entryDirs.some((dir) => file.startsWith(dir))) continue;
      for (const spec of imports(file)) {
        assert.ok(!/(^|\/)actors\//.test(spec), `${file} imports ${spec}`);
      }
    }
  });

  it("the runtime never imports the bench, which stays out of the published package", () => {
    for (const dir of ["src", "actors", "machines"]) {
      for (const file of files(dir)) {
        for (const spec of imports(file)) {
          assert.ok(!/(^|\/)bench\//.test(spec), `${file} imports ${spec}`);
        }
      }
    }
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { files: string[] };
    assert.ok(pkg.files.includes("!dist/bench"), "package.json files leave dist/bench out");
  });

  it("the public entry is an explicit list: no `export *`", () => {
    const source = readFileSync(join(root, "src/index.ts"), "utf8");
    assert.ok(!/export \*/.test(source));
  });
});

describe("the error catalog", () => {
  it("documents every code in docs/errors.md and raises no code outside the catalog", () => {
    const page = readFileSync(join(root, "docs/errors.md"), "utf8");
    for (const code of Object.keys(ErrorCodes))
      assert.ok(page.includes(`| \`${code}\``), `docs/errors.md documents ${code} in its table`);
    const known = new Set(Object.keys(ErrorCodes));
    for (const dir of ["src", "actors", "machines"]) {
      for (const file of files(dir)) {
        for (const [, code] of readFileSync(join(root, file), "utf8").matchAll(/"(PALM_ERR_[A-Z_]+)"/g)) {
          assert.ok(known.has(code!), `${relative(root, join(root, file))} uses unknown code ${code}`);
        }
      }
    }
  });
});

describe("the public API", () => {
  it("exports every part of the catalogue, every server, Worker, MuxWorker and Client from palm", async () => {
    const palm = (await import("../src/index.js")) as Record<string, unknown>;
    const parts = [
      "PullService",
      "RepService",
      "PushService",
      "PubService",
      "WorkerPullService",
      "WorkerPushService",
      "PushPullService",
      "RepBypassService",
      "CacheService",
      "HttpService",
      "PullConnection",
      "SubConnection",
      "RepConnection",
      "PushConnection",
      "ReqConnection",
      "PushBypassConnection",
      "PullBypassConnection",
      "HttpConnection",
      "GatewayRouter",
      "GatewayDealer",
      "HttpGateway",
    ];
    for (const name of parts) {
      const part = palm[name] as { partType?: string; machine?: unknown } | undefined;
      assert.equal(part?.partType, name, `${name} is exported as a part`);
      assert.ok(part?.machine, `${name} carries its machine`);
    }
    for (const name of [
      "Master",
      "Hub",
      "Server",
      "Pipeline",
      "Sink",
      "Worker",
      "MuxWorker",
      "Client",
      "ServerTemplate",
    ]) {
      assert.equal(typeof palm[name], "function", `${name} is exported`);
    }
  });
});
