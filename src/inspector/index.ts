/**
 * palm-actors/inspector: the live inspector, an offline web page showing a running server's parts, states and counters.
 *
 * @module palm-actors/inspector
 */
export type { InspectorServer, InspectorServerOptions } from "./createInspectorServer.js";
export { createInspectorServer } from "./createInspectorServer.js";
export type { InspectorCounter, InspectorStoreOptions } from "./InspectorStore.js";
export { InspectorStore } from "./InspectorStore.js";
export { stateValueToPath } from "./stateValueToPath.js";
export type {
  InspectorEvent,
  InspectorEventType,
  InspectorLiveSnapshot,
  InspectorPart,
  InspectorRoute,
  InspectorSnapshot,
  InspectorSource,
} from "./types.js";
