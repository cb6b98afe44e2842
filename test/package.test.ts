import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { freePort } from "../src/testing/ports.js";

const exec = promisify(execFile);
const repo = resolve(import.meta.dirname, "..");

describe("the npm package", () => {
  const dir = mkdtempSync(join(tmpdir(), "palm-pack-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("packs, installs into an empty project, type-checks, runs, and ships the palm CLI", {
    timeout: 240_000,
  }, async () => {
    await exec("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: repo, maxBuffer: 1 << 24 });
    const tarball = readdirSync(dir).find((file) => file.endsWith(".tgz"));
    assert.ok(tarball, "npm pack produced a tarball");
    const project = join(dir, "project");
    await exec("mkdir", ["-p", project]);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "uses-palm-actors", private: true, type: "module" }),
    );
    await exec(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        join(dir, tarball),
        "typescript@5.9",
        "@types/node@20",
        "tsx@4",
      ],
      { cwd: project, maxBuffer: 1 << 24 },
    );
    const port = await freePort();
    const program = `import { ServerTemplate, PullService, shutdownOnSignal, type PartInfo } from "palm-actors";
import { machines } from "palm-actors/machines";
import { freeEndpoints } from "palm-actors/testing";
import { machineToGraph } from "palm-actors/viz";
import { InspectorStore } from "palm-actors/inspector";
if (typeof machines.router !== "object" || (await freeEndpoints(1)).length !== 1) throw new Error("subpaths");
if (typeof machineToGraph !== "function" || typeof InspectorStore !== "function") throw new Error("subpaths");
if (typeof shutdownOnSignal !== "function") throw new Error("shutdownOnSignal");
const server = new ServerTemplate({ name: "packed", logLevel: "silent" });
server.registerInbound(PullService, "Pull", "tcp://127.0.0.1:${port}");
await server.start();
const parts: PartInfo[] = server.parts();
console.log(parts.map((p) => p.name + ":" + p.state).join(","));
await server.stop();
`;
    writeFileSync(join(project, "check.ts"), program);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          skipLibCheck: true,
          types: ["node"],
          outDir: "out",
        },
        files: ["check.ts"],
      }),
    );
    await exec(process.execPath, [join(project, "node_modules/typescript/bin/tsc"), "-p", project], {
      cwd: project,
    });
    const ran = await exec(process.execPath, [join(project, "out/check.js")], { cwd: project });
    assert.equal(ran.stdout.trim(), "Pull:running.ready.flowing");
    const help = await exec("npx", ["--no-install", "palm", "--help"], { cwd: project });
    assert.match(help.stdout, /^palm — /);
    assert.match(help.stdout, /palm <command> \[options\]/);
    // palm viz --server loads a TypeScript module of the user's project through the project's tsx.
    writeFileSync(
      join(project, "app.ts"),
      `import { ServerTemplate, PullService, PubService } from "palm-actors";
export const server: ServerTemplate = new ServerTemplate({ name: "app" })
  .registerInbound(PullService, "Pull", "tcp://127.0.0.1:${port}", { route: "Pub" })
  .registerOutbound(PubService, "Pub", "tcp://127.0.0.1:${port + 1}");
`,
    );
    const viz = await exec("npx", ["--no-install", "palm", "viz", "--server", "app.ts"], { cwd: project });
    assert.match(viz.stdout, /^%% supervision\n/);
    assert.match(viz.stdout, /%% routing/);
  });

  it("declares its metadata and ships the runtime only: no source maps, tests, examples or benchmarks", async () => {
    const manifest = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as Record<string, unknown>;
    assert.equal(manifest.name, "palm-actors");
    assert.equal(manifest.type, "module");
    assert.deepEqual(manifest.engines, { node: ">=20" });
    for (const field of ["repository", "homepage", "bugs", "keywords", "license"])
      assert.ok(manifest[field], `package.json has ${field}`);
    assert.ok(
      !("playwright-core" in (manifest.dependencies as object)),
      "playwright-core is a devDependency",
    );
    const { stdout } = await exec("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: repo,
      maxBuffer: 1 << 24,
    });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map(
      (f) => f.path,
    );
    assert.ok(files.includes("dist/src/index.js") && files.includes("dist/src/index.d.ts"));
    assert.ok(files.includes("README.md") && files.includes("docs/getting-started.md"));
    const unwanted = files.filter((file) =>
      /\.map$|^dist\/(test|examples|bench)\/|^dist\/src\/bench\/|^docs\/api\/|^src\/|^test\//.test(file),
    );
    assert.deepEqual(unwanted, []);
  });
});
