/**
 * Moleculer bench caller process: the counterpart of a palm `Client` job. Calls `master.eval` `messages`
 * times with at most `window` calls in flight, counts the answers by index, then times `roundTrips`
 * sequential calls. Reports one `exit` line with the result.
 * Configuration: a {@link MoleculerClientConfig} as JSON in argv[2].
 */

import { cpuMs, failBenchProcess, onStopRequest, peakRssKb, report, runBenchMain } from "./bench-child.js";
import { type ClientFigures, clientFigures, timeRoundTrips } from "./client-figures.js";
import {
  createBroker,
  MOLECULER_MASTER_ACTION,
  type MoleculerClientConfig,
  type MoleculerParams,
  readMoleculerConfig,
} from "./moleculer-config.js";

/** What the caller measured; the runner adds the processes' peak RSS. */
export interface MoleculerClientResult extends ClientFigures {
  readonly jobCpuMs: number;
}

const START_TIMEOUT_MS = 20_000;

async function main(): Promise<void> {
  const config = readMoleculerConfig<MoleculerClientConfig>("moleculer client");
  const { messages, warmup, roundTrips, roundTripWarmup, window, idleTimeoutMs } = config;
  const releaseStdin = onStopRequest(() =>
    failBenchProcess("moleculer client", new Error("stopped by the runner before the run was over")),
  );
  const broker = createBroker(config, idleTimeoutMs);
  await broker.start();
  await broker.waitForServices(["master"], START_TIMEOUT_MS);
  const p = "a".repeat(config.payload);

  /** `count` calls, at most `window` in flight; a call that fails (timeout) is lost. */
  const job = async (count: number) => {
    const seen = new Uint8Array(count);
    let received = 0;
    let distinct = 0;
    let next = 0;
    let lastAt = performance.now();
    const start = lastAt;
    const lane = async () => {
      while (next < count) {
        const i = next++;
        try {
          const answer = (await broker.call(MOLECULER_MASTER_ACTION, { i, p } satisfies MoleculerParams)) as
            | MoleculerParams
            | undefined;
          received++;
          lastAt = performance.now();
          const index = answer?.i ?? -1;
          if (index >= 0 && index < count && seen[index] === 0) {
            seen[index] = 1;
            distinct++;
          }
        } catch {
          // Timed out or failed: counted as lost below.
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
    return { received, distinct, seconds: (lastAt - start) / 1000 };
  };

  if (warmup > 0) await job(warmup);
  const jobCpuFrom = cpuMs();
  const { received, distinct, seconds } = await job(messages);
  const jobCpuMs = cpuMs() - jobCpuFrom;

  const params: MoleculerParams = { i: 0, p };
  const sorted = await timeRoundTrips(roundTripWarmup, roundTrips, () =>
    broker.call(MOLECULER_MASTER_ACTION, params),
  );
  releaseStdin();
  await broker.stop();
  const result: MoleculerClientResult = {
    ...clientFigures({ sent: messages, received, distinct, seconds }, sorted),
    jobCpuMs,
  };
  report({ type: "exit", role: "client", maxRssKb: peakRssKb(), cpuMs: cpuMs(), result });
}

runBenchMain("moleculer client", main);
