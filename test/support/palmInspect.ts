import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { Client } from "../../actors/client.js";
import { freeEndpoints } from "../../src/testing/ports.js";
import { type FixtureProcess, startFixture } from "../fixtures/jsonProcess.js";
import { launchChromium } from "./chromium.js";

const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));

/** Runs `palm inspect …` as its own process; resolves with the page's URL once it serves. */
export function palmInspect(args: string[]): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "inspect", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const found = /(http:\/\/\S+\/)/.exec(line);
      if (found) resolve(found[1]!);
    });
    child.once("exit", (code) => reject(new Error(`palm inspect exited (${code}): ${stderr}`)));
  });
  url.catch(() => undefined);
  return { child, url };
}

/** Stops a child process by PID with SIGTERM and waits for it to exit (nothing to do if it has). */
export function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    process.kill(child.pid!, "SIGTERM");
  });
}

/** A Master and its workers, each its own process with a live inspector (`test/fixtures/inspectedProcess.ts`). */
export interface InspectedCluster {
  readonly master: FixtureProcess;
  readonly workers: FixtureProcess[];
  /** The cache address clients find the Master by. */
  readonly dbAddress: string;
  /** The Master's inspector URL, then each worker's. */
  readonly urls: string[];
}

/**
 * Starts a Master named `name` and one worker per entry of `workers`, each with an inspector; `extra`
 * adds fixture options per process (the Master's at index 0). Resolves once every one of them is ready.
 */
export async function startInspectedCluster(
  name: string,
  workers: readonly string[],
  extra: (index: number) => Record<string, unknown> = () => ({}),
): Promise<InspectedCluster> {
  const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
  const master = startFixture(
    "inspectedProcess.ts",
    {
      role: "master",
      name,
      pullAddress: pull,
      pubAddress: pub,
      workerPullAddress: workerPull,
      workerPushAddress: workerPush,
      dbAddress: db,
      ...extra(0),
    },
    { name: "master" },
  );
  const ready = await master.waitFor((line) => line.event === "ready");
  const started = workers.map((worker, i) =>
    startFixture(
      "inspectedProcess.ts",
      { role: "worker", name: worker, dbAddress: db, ...extra(i + 1) },
      { name: worker },
    ),
  );
  const urls = [String(ready.inspector)];
  for (const worker of started)
    urls.push(String((await worker.waitFor((line) => line.event === "ready")).inspector));
  return { master, workers: started, dbAddress: db!, urls };
}

/** A `palm inspect` page open in headless Chromium, and a client of the cluster it shows. */
export interface OpenPage {
  readonly cli: ChildProcess;
  readonly client: Client;
  readonly browser: Browser;
  readonly page: Page;
}

/** Runs `palm inspect ARGS --port 0`, starts a client of `serverName` and opens the page once it is live. */
export async function openClusterPage(
  args: string[],
  serverName: string,
  dbAddress: string,
): Promise<OpenPage> {
  const { child, url } = palmInspect([...args, "--port", "0"]);
  const client = new Client({ serverName, dbAddress, logLevel: "silent" });
  await client.start();
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  await page.goto(await url);
  await page.locator('#connection[data-connection="live"]').waitFor({ timeout: 15_000 });
  return { cli: child, client, browser, page };
}
