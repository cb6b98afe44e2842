/**
 * Baseline worker process: what a palm `Worker` does, by hand with raw zeromq.js sockets.
 * PULL (connects to the master's worker PUSH) → echo → PUSH (connects to the master's worker PULL).
 * Configuration: a {@link BaselineWorkerConfig} as JSON in argv[2].
 */
import { Pull, Push } from "zeromq";
import { decodeFrame } from "./baseline-codec.js";
import { type BaselineWorkerConfig, readBenchConfig } from "./baseline-config.js";
import { createOutbox } from "./baseline-outbox.js";
import { cpuMs, onStopRequest, peakRssKb, report, runBenchMain } from "./bench-child.js";

/** The user function under test: returns its payload. */
function echo(payload: Uint8Array): Uint8Array {
  return payload;
}

async function main(): Promise<void> {
  const { endpoints, mode } = readBenchConfig<BaselineWorkerConfig>("baseline worker");
  const work = new Pull({ linger: 0 });
  const results = new Push({ linger: 0 });
  work.connect(endpoints.workerPush);
  results.connect(endpoints.workerPull);

  let stopping = false;
  onStopRequest(() => {
    stopping = true;
    work.close();
    results.close();
  });

  const out = createOutbox((frames) => results.send(frames), { mode, topic: false });
  report({ type: "ready", pid: process.pid });
  try {
    for await (const [frame] of work) {
      if (frame === undefined) continue;
      for (const message of decodeFrame(mode, frame)) {
        message.payload = echo(message.payload);
        const sent = out.push(message);
        if (sent) await sent;
      }
    }
  } catch (error) {
    if (!stopping) throw error;
  }
  report({ type: "exit", role: "worker", maxRssKb: peakRssKb(), cpuMs: cpuMs() });
}

runBenchMain("baseline worker", main);
