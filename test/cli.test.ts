import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { outboundPartMachine } from "../machines/outboundPart.js";
import { machineToGraph } from "../src/viz/machineToGraph.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`) and collects its output. */
function run(command: string, args: string[], timeoutMs = 60_000, cwd = process.cwd()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const palm = (...args: string[]) => run(process.execPath, ["--import", "tsx", "src/cli.ts", ...args]);

describe("the palm CLI", () => {
  it("prints its usage for --help and exits 2 on an unknown command", async () => {
    const help = await palm("--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^palm — /);
    for (const command of ["demo", "viz", "bench", "keygen"])
      assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`));
    const unknown = await palm("frobnicate");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });

  it("viz draws a part's statechart as Mermaid with every state of its machine", async () => {
    const result = await palm("viz", "PushService");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^stateDiagram-v2\n/);
    for (const node of machineToGraph(outboundPartMachine).nodes) {
      assert.ok(result.stdout.includes(`"${node.key}"`), `state ${node.key} is drawn`);
    }
    const missing = await palm("viz", "NoSuchPart");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no part or machine named "NoSuchPart"/);
  });

  it("viz --server draws a server module's supervision tree and routing table", async () => {
    const dir = mkdtempSync(join(tmpdir(), "palm-viz-"));
    try {
      const out = join(dir, "template.mmd");
      const result = await palm("viz", "--server", "examples/visualisation/server.ts", "-o", out);
      assert.equal(result.code, 0, result.stderr);
      const text = readFileSync(out, "utf8");
      assert.match(text, /%% supervision/);
      assert.match(text, /%% routing/);
      for (const part of ["Pull", "WorkerPush", "WorkerPull", "Pub", "Cache"])
        assert.ok(text.includes(part), part);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("viz --server loads a .ts module through the project's tsx when the built CLI runs on plain node", async () => {
    // As from an installed package: `node dist/src/cli.js` has no TypeScript loader of its own.
    const cli = join(process.cwd(), "dist/src/cli.js");
    const result = await run(process.execPath, [cli, "viz", "--server", "examples/visualisation/server.ts"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^%% supervision\n/);
    assert.match(result.stdout, /%% routing/);
  });

  it("viz --server on a .ts module names what to install when the project has no tsx", async () => {
    const dir = mkdtempSync(join(tmpdir(), "palm-viz-ts-"));
    try {
      writeFileSync(join(dir, "app.ts"), "export const port: number = 5555;\n");
      const cli = join(process.cwd(), "dist/src/cli.js");
      const result = await run(process.execPath, [cli, "viz", "--server", "app.ts"], 60_000, dir);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        "palm: cannot load app.ts: Node does not run TypeScript files by itself. Install tsx in your project (npm install --save-dev tsx), or run node with --experimental-strip-types (Node 22.6 or later), or point at the compiled .js file\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says in one line what is wrong with a missing, throwing or unwritable file, never a stack of palm's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "palm-cli-bad-"));
    try {
      writeFileSync(join(dir, "throws.mjs"), 'throw new Error("import boom");\n');
      writeFileSync(join(dir, "undef.mjs"), "throw undefined;\n");
      const missing = await palm("viz", "--server", join(dir, "missing.mjs"));
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^palm: cannot find .*missing\.mjs \(looked for .*\)\n$/);
      const throws = await palm("viz", "--server", join(dir, "throws.mjs"));
      assert.equal(throws.code, 1);
      // The user's own stack is shown: it points at their module.
      assert.match(
        throws.stderr,
        /^palm: importing .*throws\.mjs failed: Error: import boom\n\s+at .*throws\.mjs:1/,
      );
      const undef = await palm("viz", "--server", join(dir, "undef.mjs"));
      assert.equal(undef.code, 1);
      assert.match(undef.stderr, /^palm: importing .*undef\.mjs failed: it threw undefined\n$/);
      const unwritable = await palm("viz", "PushService", "-o", join(dir, "no", "such", "dir.mmd"));
      assert.equal(unwritable.code, 1);
      assert.match(unwritable.stderr, /^palm: ENOENT: no such file or directory, open '.*dir\.mmd'\n$/);
      const replay = await palm("inspect", "--replay", join(dir, "missing.jsonl"));
      assert.equal(replay.code, 1);
      assert.match(replay.stderr, /^palm: ENOENT: no such file or directory, open '.*missing\.jsonl'\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keygen prints a Z85 CURVE keypair", async () => {
    const result = await palm("keygen");
    assert.equal(result.code, 0);
    assert.match(result.stdout, /public-key: \S{40}\n/);
    assert.match(result.stdout, /secret-key: \S{40}\n/);
  });

  it("npm start runs the demo: a Master, two Workers and a Client as processes, 0 lost, exit 0", async () => {
    const started = Date.now();
    const result = await run("npm", ["start", "--silent"], 30_000);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(Date.now() - started < 30_000);
    for (let i = 0; i < 10; i++) assert.match(result.stdout, new RegExp(`HELLO ${i} \\(w[12]\\)`));
    assert.match(
      result.stdout,
      /summary: 10 messages, 10 results in [\d.]+ s \(\d+ msg\/s\), 0 lost, 0 duplicated; by worker: w1 \d+, w2 \d+/,
    );
  });
});
