/**
 * palm-actors/inspector: palm's live inspector: offline web pages showing running servers, a whole cluster, and recorded traces.
 *
 * @module palm-actors/inspector
 */

export { ClusterStore } from "./ClusterStore.js";
export type { ClusterServerOptions } from "./createClusterServer.js";
export { createClusterServer } from "./createClusterServer.js";
export type { InspectorServer, InspectorServerOptions } from "./createInspectorServer.js";
export { createInspectorServer } from "./createInspectorServer.js";
export type { InspectorCounter, InspectorStoreOptions } from "./InspectorStore.js";
export { InspectorStore } from "./InspectorStore.js";
export type { InspectOptions } from "./inspectOptions.js";
export type { JoinedInspectors, JoinOptions } from "./joinInspectors.js";
export { joinInspectors } from "./joinInspectors.js";
export type { RedactHook, RedactResult } from "./messageHop.js";
export { readTraces } from "./readTrace.js";
export { replayStore } from "./replayStore.js";
export { stateValueToPath } from "./stateValueToPath.js";
export type { TraceRecord } from "./TraceRecorder.js";
export { TRACE_VERSION } from "./TraceRecorder.js";
export type {
  ClusterProcess,
  ClusterSnapshot,
  InspectorActor,
  InspectorEvent,
  InspectorEventType,
  InspectorFailure,
  InspectorLiveSnapshot,
  InspectorMessageHop,
  InspectorPart,
  InspectorPeer,
  InspectorRoute,
  InspectorSnapshot,
  InspectorSource,
  InspectorSupervision,
} from "./types.js";
