/**
 * In-process routing, without sockets: the router and four part machines wired as a Master is
 * (`Pull → WorkerPush`, `WorkerPull → Pub`), each part's socket bridge replaced by an in-memory one. What
 * `WorkerPush` sends comes straight back into `WorkerPull` (a worker that answers at once), so every
 * message crosses the router twice. Measures what the state machines and the router cost per message.
 */
import { createActor, fromCallback, type InspectionEvent } from "xstate";
import { type BridgeCommand, type BridgeEvent, partEvents } from "../machines/events.js";
import { inboundPartMachine } from "../machines/inboundPart.js";
import { outboundPartMachine } from "../machines/outboundPart.js";
import type { PartInput } from "../machines/partSetup.js";
import { type RouterPartSpec, routerMachine } from "../machines/router.js";
import { DEFAULT_SUPERVISION } from "../machines/supervision.js";
import type { PartRole } from "../machines/types.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { checkCount } from "./run-support.js";

/** Options of {@link runInProcess}. */
export interface InProcessOptions {
  /** Messages pushed into the inbound part. @default 1000000 */
  readonly messages?: number;
  /** Messages per received batch (one `part.received` event), as a socket read under load gives. @default 64 */
  readonly batch?: number;
  /** Payload size in bytes. @default 64 */
  readonly payload?: number;
  /**
   * Count the events xstate delivers to the router and the part machines (through xstate's inspection
   * API, which slows the run: count in a run of its own). @default false
   */
  readonly countEvents?: boolean;
}

/** What {@link runInProcess} measured. */
export interface InProcessResult {
  /** Messages that reached the last part (`Pub`) per second. */
  readonly msgPerSec: number;
  readonly messages: number;
  readonly batch: number;
  readonly seconds: number;
  /**
   * Messages per second of CPU time this process used (GC threads included): what the router and the
   * machines cost, less sensitive than `msgPerSec` to other processes sharing the cores.
   */
  readonly cpuMsgPerSec: number;
  /** Events xstate delivered per message that reached the last part (with `countEvents`), else NaN. */
  readonly eventsPerMessage: number;
}

/** The in-memory edge of an inbound part: the bench hands it batches, the part's machine may pause it. */
interface MemorySource {
  emit?: (event: BridgeEvent) => void;
  paused: boolean;
  resumed?: () => void;
}

/** The in-memory edge of an outbound part: takes each `bridge.send` and acknowledges it a microtask later. */
interface MemorySink {
  take: (messages: PalmMessage[]) => void;
}

const sourceBridge = fromCallback<BridgeCommand, PartInput>(({ input, sendBack, receive }) => {
  const source = input.bridge as MemorySource;
  source.emit = sendBack as (event: BridgeEvent) => void;
  receive((command) => {
    if (command.type === "bridge.pause") source.paused = true;
    else if (command.type === "bridge.resume") {
      source.paused = false;
      source.resumed?.();
    }
  });
  queueMicrotask(() => source.emit?.(partEvents.ready()));
  return () => {
    source.emit = undefined;
  };
});

const sinkBridge = fromCallback<BridgeCommand, PartInput>(({ input, sendBack, receive }) => {
  const sink = input.bridge as MemorySink;
  const send = sendBack as (event: BridgeEvent) => void;
  receive((command) => {
    if (command.type !== "bridge.send") return;
    const { deliveries } = command;
    const seq = deliveries[deliveries.length - 1]!.seq;
    // One send is one batch on the wire (the writer bridge frames a send's deliveries together, and a
    // worker answers a frame with a frame), so it arrives at the other end as one batch.
    const messages =
      deliveries.length === 1 ? deliveries[0]!.messages : deliveries.flatMap((d) => d.messages);
    sink.take(messages);
    const count = messages.length;
    // As a socket send would: acknowledged once it is done, not within the command.
    queueMicrotask(() => send(partEvents.sent(seq, count)));
  });
  queueMicrotask(() => send(partEvents.ready()));
});

const inbound = inboundPartMachine.provide({ actors: { bridge: sourceBridge } });
const outbound = outboundPartMachine.provide({ actors: { bridge: sinkBridge } });

function spec(name: string, role: PartRole, route: string | undefined, bridge: unknown): RouterPartSpec {
  return {
    name,
    role,
    route,
    block: false,
    restart: "permanent",
    logic: role === "inbound" ? inbound : outbound,
    input: { name, role, partType: `Memory${role}`, bridge },
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Pushes `messages` through a router and four part machines in this process, in batches of `batch`, and
 * measures messages per second at the last part.
 *
 * @example
 * const { msgPerSec } = await runInProcess({ messages: 1_000_000 });
 */
export async function runInProcess(options: InProcessOptions = {}): Promise<InProcessResult> {
  const messages = options.messages ?? 1_000_000;
  const batch = options.batch ?? 64;
  const payload = options.payload ?? 64;
  checkCount("messages", messages, 1);
  checkCount("batch", batch, 1);
  checkCount("payload", payload, 0);

  const pull: MemorySource = { paused: false };
  const workerPull: MemorySource = { paused: false };
  let delivered = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  // The "worker": what WorkerPush sends comes back on WorkerPull as one batch.
  const workerPush: MemorySink = { take: (batchOut) => workerPull.emit?.(partEvents.received(batchOut)) };
  const pub: MemorySink = {
    take: (batchOut) => {
      delivered += batchOut.length;
      if (delivered >= messages) done();
    },
  };
  let events = 0;
  const router = createActor(routerMachine, {
    ...(options.countEvents
      ? {
          inspect: (event: InspectionEvent) => {
            if (event.type === "@xstate.event") events++;
          },
        }
      : {}),
    input: {
      server: "in-process",
      policy: DEFAULT_SUPERVISION,
      parts: [
        spec("Pull", "inbound", "WorkerPush", pull),
        spec("WorkerPush", "outbound", undefined, workerPush),
        spec("WorkerPull", "inbound", "Pub", workerPull),
        spec("Pub", "outbound", undefined, pub),
      ],
    },
  });
  const ready = new Promise<void>((resolve) => router.on("server.ready", () => resolve()));
  router.start();
  await ready;

  const body = new Uint8Array(payload).fill(0x61);
  const template = createMessage({
    pipeline: "bench",
    client: "bench",
    function: "bench.echo",
    payload: body,
  });
  const start = performance.now();
  const cpuFrom = process.cpuUsage();
  let sent = 0;
  let n = 0;
  while (sent < messages) {
    if (pull.paused) {
      await new Promise<void>((resolve) => {
        pull.resumed = resolve;
      });
      continue;
    }
    const size = Math.min(batch, messages - sent);
    const out: PalmMessage[] = new Array(size);
    for (let i = 0; i < size; i++) out[i] = { ...template, id: `m${sent + i}` };
    sent += size;
    pull.emit?.(partEvents.received(out));
    // Let the acknowledgements (microtasks) and anything else scheduled run now and then.
    if (++n % 16 === 0) await tick();
  }
  await finished;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuFrom);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  router.stop();
  return {
    msgPerSec: delivered / seconds,
    messages: delivered,
    batch,
    seconds,
    cpuMsgPerSec: cpuSeconds > 0 ? delivered / cpuSeconds : Number.NaN,
    eventsPerMessage: options.countEvents ? events / delivered : Number.NaN,
  };
}
