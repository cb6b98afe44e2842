import { readFileSync } from "node:fs";
import { PalmError } from "../errors.js";
import { TRACE_VERSION, type TraceRecord } from "./TraceRecorder.js";

/**
 * Reads palm traces (JSON lines) and merges them by time: one file per process, or one file already
 * holding several. Returns the records and the processes, in the order the files name them. Lines of a later format version, or files that are not palm traces, are refused.
 */
export function readTraces(files: readonly string[]): {
  records: TraceRecord[];
  processes: string[];
  /** The file each process was first read from. */
  sources: Record<string, string>;
} {
  const merged: TraceRecord[] = [];
  const processes: string[] = [];
  const sources: Record<string, string> = {};
  for (const file of files) {
    const lines = readFileSync(file, "utf8").split("\n");
    let header = false;
    for (const [index, line] of lines.entries()) {
      if (line.trim() === "") continue;
      let record: TraceRecord;
      try {
        record = JSON.parse(line) as TraceRecord;
      } catch {
        // The last line of a trace cut off by a crash may be partial; any other bad line is an error.
        if (index >= lines.length - 2) break;
        throw new PalmError("PALM_ERR_OPTION_INVALID", `--replay: ${file}:${index + 1} is not JSON`);
      }
      if (record.type === "header") {
        if (typeof record.palmTrace !== "number" || record.palmTrace > TRACE_VERSION) {
          throw new PalmError(
            "PALM_ERR_OPTION_INVALID",
            `--replay: ${file} is a palm trace of version ${String(record.palmTrace)}; this palm reads version ${TRACE_VERSION}`,
          );
        }
        header = true;
        continue;
      }
      if (!header)
        throw new PalmError(
          "PALM_ERR_OPTION_INVALID",
          `--replay: ${file} does not start with a palm trace header`,
        );
      if (typeof record.at !== "number" || typeof record.process !== "string") continue;
      if (!processes.includes(record.process)) {
        processes.push(record.process);
        sources[record.process] = file;
      }
      merged.push(record);
    }
  }
  // Stable: records of one process keep their order when two share a millisecond.
  const records = merged
    .map((record, index) => ({ record, index }))
    .sort((a, b) => a.record.at - b.record.at || a.index - b.index)
    .map(({ record }) => record);
  return { records, processes, sources };
}
