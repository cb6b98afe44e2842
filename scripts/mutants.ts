// `npm run mutants`: plants each bug of mutants/list.ts, one at a time, in a temporary copy of the
// repository (the working tree is never touched), runs the test files that should catch it, and reports.
// Its last line is `N/M planted bugs caught`; it exits 1 unless every one was. PALM_MUTANT_TESTS (a
// comma-separated list of test files) runs those instead of each bug's own, to see what one suite catches.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { mutants } from "../mutants/list.js";

const root = join(import.meta.dirname, "..");
/** How long one mutant's tests may run; a mutant that hangs them counts as caught (and says so). */
const TIMEOUT_MS = Number(process.env.PALM_MUTANT_TIMEOUT_MS) || 300_000;

function run(cwd: string, tests: readonly string[]): Promise<{ code: number | null; timedOut: boolean }> {
  return new Promise((resolve) => {
    const args = ["--import", "tsx", "--test", "--test-concurrency=1", "--test-timeout=120000", ...tests];
    const child = spawn(process.execPath, args, { cwd, stdio: "ignore", detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // The test runner and whatever it started: one process group.
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, TIMEOUT_MS);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut });
    });
  });
}

async function main(): Promise<number> {
  const copy = mkdtempSync(join(tmpdir(), "palm-mutants-"));
  try {
    cpSync(root, copy, {
      recursive: true,
      filter: (source) => {
        const path = relative(root, source).split(/[\\/]/)[0];
        return path !== "node_modules" && path !== ".git" && path !== "dist";
      },
    });
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"), "dir");
    // A bug only counts as caught if the same tests pass without it.
    const all = [...new Set(mutants.flatMap((m) => process.env.PALM_MUTANT_TESTS?.split(",") ?? m.tests))];
    const baseline = await run(copy, all);
    if (baseline.code !== 0) {
      console.log(`BASELINE FAILED: ${all.join(", ")} fail without any planted bug`);
      console.log(`0/${mutants.length} planted bugs caught`);
      return 1;
    }
    console.log(`baseline: ${all.join(", ")} pass without planted bugs`);
    let caught = 0;
    for (const [i, mutant] of mutants.entries()) {
      const file = join(copy, mutant.file);
      const original = readFileSync(file, "utf8");
      const at = original.indexOf(mutant.search);
      const label = `${i + 1}/${mutants.length} ${mutant.name} (${mutant.file})`;
      if (at === -1 || original.indexOf(mutant.search, at + 1) !== -1) {
        console.log(`STALE   ${label}: its search text must occur exactly once`);
        continue;
      }
      writeFileSync(file, original.replace(mutant.search, mutant.replace));
      const started = performance.now();
      const tests = process.env.PALM_MUTANT_TESTS?.split(",") ?? mutant.tests;
      try {
        const { code, timedOut } = await run(copy, tests);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        if (code !== 0) {
          caught++;
          console.log(
            `CAUGHT  ${label} by ${tests.join(", ")}${timedOut ? " (timed out)" : ""} in ${seconds} s`,
          );
        } else console.log(`MISSED  ${label}: ${tests.join(", ")} passed`);
      } finally {
        writeFileSync(file, original);
      }
    }
    console.log(`${caught}/${mutants.length} planted bugs caught`);
    return caught === mutants.length ? 0 : 1;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

process.exitCode = await main();
