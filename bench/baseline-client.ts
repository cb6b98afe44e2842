/**
 * Baseline client process: what a palm `Client` does, by hand with raw zeromq.js sockets.
 * SUB (connects to the master's PUB, subscribed to its id) + PUSH (connects to the master's client PULL).
 * Waits for a probe answer, sends `messages` echo calls as fast as the sockets take them, counts results
 * by id, then measures `roundTrips` sequential round trips. Reports one `exit` line with the result.
 * Configuration: a {@link BaselineClientConfig} as JSON in argv[2].
 */

import { performance } from "node:perf_hooks";
import { Push, Subscriber } from "zeromq";
import { type BenchMessage, decodeFrame, ECHO_FUNCTION, PROBE_FUNCTION } from "./baseline-codec.js";
import { type BaselineClientConfig, readBenchConfig } from "./baseline-config.js";
import { createOutbox } from "./baseline-outbox.js";
import { cpuMs, failBenchProcess, onStopRequest, peakRssKb, report, runBenchMain } from "./bench-child.js";
import { type ClientFigures, clientFigures } from "./client-figures.js";
import { sortedAscending } from "./stats.js";

/** What the client measured; the runner adds the processes' peak RSS. */
export type BaselineClientResult = ClientFigures;

const PROBE_INTERVAL_MS = 100;
const IDLE_POLL_MS = 50;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const config = readBenchConfig<BaselineClientConfig>("baseline client");
  const { endpoints, mode, messages, warmup, roundTrips, idleTimeoutMs, probeTimeoutMs } = config;
  const clientId = `baseline-client-${process.pid}`;
  const payload = Buffer.alloc(config.payload, 0x61);
  const message = (fn: string, id: string): BenchMessage => ({
    pipeline: clientId,
    client: clientId,
    stage: 0,
    function: fn,
    cache: "",
    payload,
    id,
  });

  const results = new Subscriber({ linger: 0 });
  const work = new Push({ linger: 0 });
  results.subscribe(clientId);
  results.connect(endpoints.clientPub);
  work.connect(endpoints.clientPull);
  const out = createOutbox((frames) => work.send(frames), { mode, topic: false });
  // The runner went away or wants us gone: there is nobody to report to.
  const releaseStdin = onStopRequest(() =>
    failBenchProcess("baseline client", new Error("stopped by the runner before the run was over")),
  );

  // One receive loop for the whole run; each phase installs its own handler. A frame it cannot read
  // ends the process (the runner reports our stderr).
  let onResult: (m: BenchMessage) => void = () => undefined;
  let closing = false;
  const receiving = (async () => {
    try {
      for await (const [, body] of results) {
        if (body === undefined) continue;
        for (const m of decodeFrame(mode, body)) onResult(m);
      }
    } catch (error) {
      if (!closing) failBenchProcess("baseline client", error);
    }
  })();
  const send = (m: BenchMessage): Promise<void> | undefined => out.push(m);

  // Slow joiners: send probes until one comes back on SUB, i.e. our subscription is live at the master
  // and every worker is connected. Nothing sent before that is counted.
  let probed: () => void = () => undefined;
  const probeAnswered = new Promise<void>((resolve) => {
    probed = resolve;
  });
  onResult = (m) => {
    if (m.function === PROBE_FUNCTION) probed();
  };
  await within(
    (async () => {
      for (let k = 0; ; k++) {
        await send(message(PROBE_FUNCTION, `probe-${k}`));
        const answered = await Promise.race([probeAnswered.then(() => true), delay(PROBE_INTERVAL_MS)]);
        if (answered) return;
      }
    })(),
    probeTimeoutMs,
    "An answer from the master to the client's probe",
  );

  /** Sends `count` echo calls as fast as the outbox takes them and counts results by id until all are in
   * or none came for `idleTimeoutMs` (PUB high-water-mark drops: what is missing is reported as lost). */
  const throughput = async (count: number, idPrefix: string) => {
    const seen = new Uint8Array(count);
    let received = 0;
    let distinct = 0;
    let lastResultAt = 0;
    let allIn: () => void = () => undefined;
    const allReceived = new Promise<void>((resolve) => {
      allIn = resolve;
    });
    onResult = (m) => {
      if (m.function !== ECHO_FUNCTION || !m.id.startsWith(idPrefix)) return;
      const index = Number(m.id.slice(idPrefix.length));
      if (!Number.isInteger(index) || index < 0 || index >= count) return;
      received++;
      lastResultAt = performance.now();
      if (seen[index] === 0) {
        seen[index] = 1;
        if (++distinct === count) allIn();
      }
    };
    if (count === 0) allIn();
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      // Awaited only when the outbox asks (plain: every send; batched: when its queue is full).
      const sent = send(message(ECHO_FUNCTION, idPrefix + i));
      if (sent) await sent;
    }
    const sentAt = performance.now();
    let idlePoll: NodeJS.Timeout | undefined;
    const idle = new Promise<void>((resolve) => {
      idlePoll = setInterval(() => {
        if (performance.now() - Math.max(lastResultAt, sentAt) >= idleTimeoutMs) resolve();
      }, IDLE_POLL_MS);
    });
    await Promise.race([allReceived, idle]);
    clearInterval(idlePoll);
    onResult = () => undefined;
    const seconds = ((distinct > 0 ? lastResultAt : performance.now()) - start) / 1000;
    return { received, distinct, seconds };
  };

  // Optional warm-up (JIT, socket buffers), not counted; then the measured run, ids = message indices.
  if (warmup > 0) await throughput(warmup, "warmup-");
  const { received, distinct, seconds } = await throughput(messages, "");

  // Sequential round trips: one message in flight, timed from send to its result.
  const rtts: number[] = [];
  const warmTrips = config.roundTripWarmup ?? 0;
  for (let k = -warmTrips; k < roundTrips; k++) {
    const id = `rt-${k}`;
    let answeredAt = 0;
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    onResult = (m) => {
      if (m.id === id) {
        answeredAt = performance.now();
        answer();
      }
    };
    const sentAtK = performance.now();
    await send(message(ECHO_FUNCTION, id));
    await within(answered, idleTimeoutMs, `The answer to round trip ${k}`);
    if (k >= 0) rtts.push((answeredAt - sentAtK) * 1000);
  }
  onResult = () => undefined;
  const sorted = sortedAscending(rtts);

  const result: BaselineClientResult = clientFigures({ sent: messages, received, distinct, seconds }, sorted);
  closing = true;
  releaseStdin();
  results.close();
  work.close();
  await receiving;
  report({ type: "exit", role: "client", maxRssKb: peakRssKb(), cpuMs: cpuMs(), result });
}

runBenchMain("baseline client", main);
