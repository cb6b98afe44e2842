import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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
      JSON.stringify({ name: "uses-palm", private: true, type: "module" }),
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
      ],
      { cwd: project, maxBuffer: 1 << 24 },
    );
    const port = await freePort();
    const program = `import { ServerTemplate, PullService, type PartInfo } from "palm";
import { machines } from "palm/machines";
import { freeEndpoints } from "palm/testing";
if (typeof machines.router !== "object" || (await freeEndpoints(1)).length !== 1) throw new Error("subpaths");
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
  });
});
