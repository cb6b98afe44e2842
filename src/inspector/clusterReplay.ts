import type { PageKit } from "./pageKit.js";
import type { TraceRecord } from "./TraceRecorder.js";
import type { ClusterProcess, ClusterSnapshot, InspectorEvent, InspectorLiveSnapshot } from "./types.js";

/** What {@link replayControls} drives on the page. @internal */
export interface ReplayHooks {
  /** Forgets every event (the scrubber went back). */
  readonly reset: () => void;
  /** Takes in one event of the trace, at its position. */
  readonly ingest: (event: InspectorEvent, index: number) => void;
  /** The processes as they were at the position; everything is drawn afresh. */
  readonly show: (processes: ClusterProcess[]) => void;
  /** Whether an event is a failure (where "jump to failure" stops). */
  readonly isFailure: (event: InspectorEvent) => boolean;
}

/**
 * The cluster page replaying a trace: reads `/trace.json` and shows the page at the scrubber's position
 * (play, pause, step, jump to failure), rebuilt from the records. Runs in the browser, sent as source
 * text with the page's script (see `pageScript`).
 *
 * @internal
 */
export function replayControls(kit: PageKit, hooks: ReplayHooks): void {
  const { byId, setText, clock } = kit;
  const status = byId("connection");
  status.textContent = "replay";
  status.setAttribute("data-connection", "replay");
  const scrubber = byId("scrubber") as HTMLInputElement;
  let records: TraceRecord[] = [];
  let order: ClusterProcess[] = [];
  let cursor = -1;
  let applied = -1;
  let snapshots = new Map<string, InspectorLiveSnapshot>();
  const apply = (index: number): void => {
    const record = records[index];
    if (!record || record.type === "header" || record.type === "statecharts") return;
    if (record.type === "snapshot") snapshots.set(record.process, record.snapshot);
    else hooks.ingest({ ...record.event, process: record.process }, index);
  };
  const seek = (target: number): void => {
    cursor = Math.max(0, Math.min(records.length - 1, target));
    if (cursor < applied) {
      hooks.reset();
      snapshots = new Map();
      applied = -1;
    }
    for (let i = applied + 1; i <= cursor; i++) apply(i);
    applied = cursor;
    scrubber.value = String(cursor);
    const record = records[cursor];
    const first = records[0]?.at ?? 0;
    setText(
      byId("replay-time"),
      record
        ? `${cursor + 1}/${records.length} · ${clock(record.at)} (+${((record.at - first) / 1000).toFixed(3)} s)`
        : "empty trace",
    );
    byId("replay-time").setAttribute("data-position", String(cursor));
    hooks.show(
      order.map((entry) => {
        const snapshot = snapshots.get(entry.process);
        const { process, url } = entry;
        return { process, url, connected: snapshot !== undefined, ...(snapshot ? { snapshot } : {}) };
      }),
    );
  };
  let playing: ReturnType<typeof setInterval> | undefined;
  const pause = () => {
    if (playing) clearInterval(playing);
    playing = undefined;
    setText(byId("play"), "▶ play");
  };
  byId("play").addEventListener("click", () => {
    if (playing) return pause();
    let playhead = records[cursor]?.at ?? 0;
    setText(byId("play"), "❚❚ pause");
    playing = setInterval(() => {
      playhead += 100;
      let next = cursor;
      while (next + 1 < records.length && records[next + 1]!.at <= playhead) next++;
      if (next !== cursor) seek(next);
      if (cursor >= records.length - 1) pause();
    }, 100);
  });
  byId("step").addEventListener("click", () => {
    pause();
    seek(cursor + 1);
  });
  byId("step-back").addEventListener("click", () => {
    pause();
    seek(cursor - 1);
  });
  byId("jump-failure").addEventListener("click", () => {
    pause();
    const failing = (i: number) => {
      const record = records[i];
      return record?.type === "event" && hooks.isFailure(record.event);
    };
    let found = -1;
    for (let i = cursor + 1; i < records.length && found === -1; i++) if (failing(i)) found = i;
    for (let i = 0; i <= cursor && found === -1; i++) if (failing(i)) found = i;
    if (found !== -1) seek(found);
  });
  scrubber.addEventListener("input", () => {
    pause();
    seek(Number(scrubber.value));
  });
  void Promise.all([
    fetch("trace.json").then((r) => r.json() as Promise<TraceRecord[]>),
    fetch("snapshot.json").then((r) => r.json() as Promise<ClusterSnapshot>),
  ]).then(([trace, cluster]) => {
    records = trace;
    order = [...cluster.processes];
    scrubber.max = String(Math.max(0, records.length - 1));
    seek(0);
  });
}
