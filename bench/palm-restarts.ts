/**
 * palm bench restart process: times a palm `Master`'s `start()` until every part is ready, then crashes
 * its routed parts one after the other (`server.crash(part)`) and times each until the router reports the
 * part ready again (`part.restarted`). Reports one `exit` line with the samples.
 * Configuration: a {@link PalmRestartsConfig} as JSON in argv[2].
 */
import { Master } from "../actors/servers/master.js";
import { cpuMs, onStopRequest, peakRssKb, readChildConfig, report, runBenchMain } from "./bench-child.js";
import { BENCH_SERVER, type PalmEndpoints } from "./palm-config.js";

/** Configuration of the restart process. */
export interface PalmRestartsConfig {
  readonly endpoints: PalmEndpoints;
  /** Crashes in all, spread over the parts in turn. */
  readonly crashes: number;
  /** The parts crashed, in turn. */
  readonly parts: readonly string[];
}

/** What the restart process measured. */
export interface PalmRestartsResult {
  /** `start()` until every part was ready, ms. */
  readonly startMs: number;
  /** Each crash until its part was ready again, ms, in order. */
  readonly crashToReadyMs: number[];
  /** The part each sample is about. */
  readonly parts: string[];
}

/** How long one crashed part may take to come back before the run fails. */
const READY_TIMEOUT_MS = 5000;

async function main(): Promise<void> {
  const { endpoints, crashes, parts } = readChildConfig<PalmRestartsConfig>("palm restarts");
  const releaseStdin = onStopRequest(() => process.exit(1));
  const master = new Master({
    name: BENCH_SERVER,
    pullAddress: endpoints.pull,
    pubAddress: endpoints.pub,
    workerPullAddress: endpoints.workerPull,
    workerPushAddress: endpoints.workerPush,
    dbAddress: endpoints.db,
    logLevel: "silent",
    // Measured: the restart itself. palm's default first backoff (1 ms) stays; every crash counts as the
    // first of its part (resetAfterMs 0) and the intensity is raised so the run never escalates.
    supervision: { maxRestarts: crashes + 10, withinMs: 60_000, backoff: { resetAfterMs: 0 } },
  });
  const startedAt = performance.now();
  await master.start();
  const startMs = performance.now() - startedAt;

  let restarted: ((part: string) => void) | undefined;
  master.on("part.restarted", (event) => restarted?.(event.part));
  const crashToReadyMs: number[] = [];
  const crashed: string[] = [];
  for (let k = 0; k < crashes; k++) {
    const part = parts[k % parts.length]!;
    const back = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`part "${part}" was not ready ${READY_TIMEOUT_MS} ms after its crash`)),
        READY_TIMEOUT_MS,
      );
      restarted = (name) => {
        if (name !== part) return;
        clearTimeout(timer);
        resolve(performance.now());
      };
    });
    const crashedAt = performance.now();
    master.crash(part, "bench");
    crashToReadyMs.push((await back) - crashedAt);
    crashed.push(part);
  }
  restarted = undefined;
  releaseStdin();
  await master.stop();
  const result: PalmRestartsResult = { startMs, crashToReadyMs, parts: crashed };
  report({ type: "exit", role: "restarts", maxRssKb: peakRssKb(), cpuMs: cpuMs(), result });
}

runBenchMain("palm restarts", main);
