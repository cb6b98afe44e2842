import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ClusterSnapshot } from "../src/inspector/types.js";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

describe("palm demo --inspect", () => {
  it("serves the master and its workers on one page and keeps sending until Ctrl-C", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", CLI, "demo", "--inspect", "0", "--messages", "3"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on("line", (line) => {
          const found = /^inspector: (http:\/\/\S+\/)/.exec(line);
          if (found) resolve(found[1]!);
        });
        void exited.then((code) => reject(new Error(`palm demo exited (${code}): ${stderr}`)));
      });
      const pullIn = async () => {
        const cluster = (await (await fetch(`${url}snapshot.json`)).json()) as ClusterSnapshot;
        assert.deepEqual(
          cluster.processes.map((p) => p.process),
          ["demo", "w1", "w2"],
        );
        return cluster.processes[0]!.snapshot?.parts.find((p) => p.name === "Pull")?.messagesIn ?? 0;
      };
      // The page joins the processes' inspectors as they answer; the first job (3 messages) shows first.
      const deadline = Date.now() + 30_000;
      let seen = await pullIn();
      while (seen < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        seen = await pullIn();
      }
      assert.ok(seen >= 3, `the first job shows (${seen} messages in)`);
      // The client sends the job again every second: the master's Pull keeps counting.
      while (seen < 9 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        seen = await pullIn();
      }
      assert.ok(seen >= 9, `the demo kept sending (${seen} messages in)`);
      process.kill(child.pid!, "SIGINT");
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
    }
  });
});
