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
  /** Also follow the inspectors the joined ones name as peers (a Master's workers'). @default true */
  readonly discover?: boolean;
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

/** The inspector URLs a snapshot names as its peers (a Master's workers), in one spelling. */
function peerUrls(snapshot: InspectorLiveSnapshot): string[] {
  return (snapshot.peers ?? []).map((peer) => normalUrl(peer.url));
}

function normalUrl(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

/**
 * Follows the inspectors at `urls` (a Master's and its workers', a pipeline's stages) into one
 * {@link ClusterStore}: what `palm inspect URL…` serves. Rejects if one cannot be reached at first;
 * later outages are shown on the page and retried. The peers an inspector names (a Master names its
 * workers' inspectors) are followed too, as they appear, unless `discover` is off.
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
  /** Every URL followed or being joined, so a peer named again and again is joined once. */
  const known = new Set<string>();
  let closed = false;
  const close = async () => {
    closed = true;
    await Promise.all(feeds.map((feed) => feed.close()));
    if (timer) clearInterval(timer);
    recorder?.close();
  };
  let timer: NodeJS.Timeout | undefined;
  const discover = (snapshot: InspectorLiveSnapshot): void => {
    if (options.discover === false || closed) return;
    for (const url of peerUrls(snapshot)) {
      if (known.has(url)) continue;
      // A peer that cannot be reached yet is tried again when it is next named.
      follow(url).catch(() => known.delete(url));
    }
  };
  const follow = async (url: string): Promise<void> => {
    known.add(normalUrl(url));
    let name: string | undefined;
    const feed = new InspectorFeed(url, {
      onSnapshot: (snapshot) => {
        name ??= store.addProcess(url, snapshot.server);
        store.addStatecharts(snapshot.statecharts);
        store.setSnapshot(name, live(snapshot));
        discover(snapshot);
      },
      onLive: (snapshot) => {
        if (!name) return;
        store.setSnapshot(name, snapshot);
        discover(snapshot);
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
    if (closed) {
      await feed.close();
      return;
    }
    const first = await feed.start();
    recorder?.statecharts(name ?? first.server, first.statecharts);
  };
  for (const url of urls) known.add(normalUrl(url));
  try {
    for (const url of urls) await follow(url);
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
