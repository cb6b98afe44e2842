/**
 * Moleculer bench worker process: a broker offering `worker.echo`, which returns its parameters (the
 * counterpart of a palm `Worker` whose function returns its payload). Reports `ready`, then `exit` with its
 * peak RSS when its runner asks it to stop. Configuration: a {@link MoleculerNodeConfig} as JSON in argv[2].
 */
import { answerMarks, cpuMs, onStopRequest, peakRssKb, report, runBenchMain } from "./bench-child.js";
import { createBroker, type MoleculerNodeConfig, readMoleculerConfig } from "./moleculer-config.js";

async function main(): Promise<void> {
  const config = readMoleculerConfig<MoleculerNodeConfig>("moleculer worker");
  const broker = createBroker(config);
  broker.createService({
    name: "worker",
    actions: {
      echo: (ctx) => ctx.params,
    },
  });
  const stopped = new Promise<void>((resolve) => onStopRequest(resolve));
  answerMarks();
  await broker.start();
  report({ type: "ready", pid: process.pid, cpuMs: cpuMs() });
  await stopped;
  await broker.stop();
  report({ type: "exit", role: "worker", maxRssKb: peakRssKb(), cpuMs: cpuMs() });
}

runBenchMain("moleculer worker", main);
