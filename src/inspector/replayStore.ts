import { ClusterStore } from "./ClusterStore.js";
import type { TraceRecord } from "./TraceRecorder.js";

/** A replay's {@link ClusterStore}: every process of the trace, with its statecharts and its last snapshot. */
export function replayStore(
  records: readonly TraceRecord[],
  processes: readonly string[],
  sources: Readonly<Record<string, string>>,
): ClusterStore {
  const store = new ClusterStore("replay");
  const known = new Set<string>(processes);
  for (const process of processes) store.addProcess(sources[process] ?? "trace", process);
  for (const record of records) {
    if (record.type === "header") continue;
    if (!known.has(record.process)) {
      known.add(record.process);
      store.addProcess(sources[record.process] ?? "trace", record.process);
    }
    if (record.type === "statecharts") store.addStatecharts(record.statecharts);
    else if (record.type === "snapshot") store.setSnapshot(record.process, record.snapshot);
  }
  return store;
}
