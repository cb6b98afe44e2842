/**
 * Baseline master process: what a palm `Master` does, by hand with raw zeromq.js sockets.
 * PULL (from clients) → PUSH (to workers); PULL (from workers) → PUB (topic = client id).
 * Configuration: a {@link BaselineMasterConfig} as JSON in argv[2].
 */
import { Publisher, Pull, Push } from "zeromq";
import { decodeFrame, PROBE_FUNCTION } from "./baseline-codec.js";
import { type BaselineMasterConfig, readBenchConfig } from "./baseline-config.js";
import { createOutbox, type Outbox } from "./baseline-outbox.js";
import { cpuMs, onStopRequest, peakRssKb, report, runBenchMain } from "./bench-child.js";

async function main(): Promise<void> {
  const { endpoints, mode, workers } = readBenchConfig<BaselineMasterConfig>("baseline master");
  const fromClients = new Pull({ linger: 0 });
  const toWorkers = new Push({ linger: 0 });
  const fromWorkers = new Pull({ linger: 0 });
  const toClients = new Publisher({ linger: 0 });
  const sockets = [fromClients, toWorkers, fromWorkers, toClients];

  // Probes are answered only once every worker has completed its handshake on both worker sockets, so the
  // client starts with the whole cluster connected (PUSH only deals to peers it already knows).
  let pushHandshakes = 0;
  let pullHandshakes = 0;
  toWorkers.events.on("handshake", () => void pushHandshakes++);
  fromWorkers.events.on("handshake", () => void pullHandshakes++);
  const workersReady = () => pushHandshakes >= workers && pullHandshakes >= workers;

  await Promise.all([
    fromClients.bind(endpoints.clientPull),
    toWorkers.bind(endpoints.workerPush),
    fromWorkers.bind(endpoints.workerPull),
    toClients.bind(endpoints.clientPub),
  ]);

  let stopping = false;
  const stopped = new Promise<void>((resolve) =>
    onStopRequest(() => {
      stopping = true;
      for (const socket of sockets) socket.close();
      resolve();
    }),
  );

  const workOut = createOutbox((frames) => toWorkers.send(frames), { mode, topic: false });
  const resultsOut = createOutbox((frames) => toClients.send(frames), {
    mode,
    topic: true,
    concurrent: true,
  });

  async function relay(from: Pull, to: Outbox, answerProbes: boolean): Promise<void> {
    try {
      for await (const [frame] of from) {
        if (frame === undefined) continue;
        for (const message of decodeFrame(mode, frame)) {
          if (message.function === PROBE_FUNCTION && answerProbes) {
            if (!workersReady()) continue;
            const answered = resultsOut.push(message);
            if (answered) await answered;
            continue;
          }
          const sent = to.push(message);
          if (sent) await sent;
        }
      }
    } catch (error) {
      // A send interrupted by our own close at stop time is the normal end, anything else is a failure.
      if (!stopping) throw error;
    }
  }

  report({ type: "ready", pid: process.pid });
  await Promise.all([relay(fromClients, workOut, true), relay(fromWorkers, resultsOut, false), stopped]);
  report({ type: "exit", role: "master", maxRssKb: peakRssKb(), cpuMs: cpuMs() });
}

runBenchMain("baseline master", main);
