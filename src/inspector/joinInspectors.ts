import { ClusterStore } from "./ClusterStore.js";
import { InspectorFeed } from "./InspectorFeed.js";
import { TraceRecorder } from "./TraceRecorder.js";
import type { InspectorLiveSnapshot, InspectorSnapshot } from "./types.js";

/** Options of {@link joinInspectors}. */
export interface JoinOptions {
  /** Also write what the cluster page shows to this JSON-lines trace. */
  readonly record?: string;
  /** The most bytes one trace file holds before it rotates. @default 33554432 (32 MiB) */
  readonly recordMaxBytes?: number;
}

/** Several processes' inspectors, followed together. */
export interface JoinedInspectors {
  readonly store: ClusterStore;
  /** Stops following every inspector and closes the trace; idempotent. */
  close(): Promise<void>;
}

function live(snapshot: InspectorSnapshot): InspectorLiveSnapshot {
  const { statecharts: _statecharts, ...rest } = snapshot;
  return rest;
}

/**
 * Follows the inspectors at `urls` (a Master's and its workers', a pipeline's stages) into one
 * {@link ClusterStore}: what `palm inspect URL…` serves. Rejects if one cannot be reached at first;
 * later outages are shown on the page and retried.
 */
export async function joinInspectors(
  urls: readonly string[],
  options: JoinOptions = {},
): Promise<JoinedInspectors> {
  const store = new ClusterStore("live");
  const recorder = options.record
    ? new TraceRecorder({ file: options.record, maxBytes: options.recordMaxBytes })
    : undefined;
  const feeds: InspectorFeed[] = [];
  const names: string[] = [];
  const close = async () => {
    await Promise.all(feeds.map((feed) => feed.close()));
    if (timer) clearInterval(timer);
    recorder?.close();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    for (const url of urls) {
      let name: string | undefined;
      const feed = new InspectorFeed(url, {
        onSnapshot: (snapshot) => {
          name ??= store.addProcess(url, snapshot.server);
          store.addStatecharts(snapshot.statecharts);
          store.setSnapshot(name, live(snapshot));
        },
        onLive: (snapshot) => {
          if (name) store.setSnapshot(name, snapshot);
        },
        onEvent: (event) => {
          if (!name) return;
          store.emit(name, event);
          recorder?.event(name, { ...event, process: name });
        },
        onConnected: (connected) => {
          if (name) store.setConnected(name, connected);
        },
      });
      feeds.push(feed);
      const first = await feed.start();
      names.push(name ?? first.server);
      recorder?.statecharts(name ?? first.server, first.statecharts);
    }
  } catch (error) {
    await close();
    throw error;
  }
  if (recorder) {
    timer = setInterval(() => {
      for (const entry of store.snapshot().processes) {
        if (entry.snapshot) recorder.snapshot(entry.process, JSON.stringify(entry.snapshot));
      }
      recorder.flush();
    }, 200).unref();
  }
  let closing: Promise<void> | undefined;
  return {
    store,
    close() {
      closing ??= close();
      return closing;
    },
  };
}
