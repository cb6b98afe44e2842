/**
 * palm-actors/testing: helpers for restart tests under load and pure machine tests.
 *
 * @module palm-actors/testing
 */
// palm/testing: helpers for restart tests and pure machine tests. An entry point like src/index.ts, so it
// may use the ready-made servers in actors/.

export {
  type CollectJobOptions,
  collectJob,
  type JobClient,
  type JobReport,
  taggedPayloads,
} from "./collectJob.js";
export { type CrashRepeatedlyOptions, type CrashReport, crashRepeatedly, median } from "./crashRepeatedly.js";
export {
  createFakeBridge,
  type FakeBridge,
  type FakeBridgeCommand,
  type FakeBridgeOptions,
} from "./fakeBridge.js";
export { pacePayloads } from "./pacePayloads.js";
export { freeEndpoints, freePort, freePorts } from "./ports.js";
export {
  type MasterAddresses,
  type MasterCluster,
  type StartMasterOptions,
  startMaster,
} from "./startMaster.js";
export { type LifecycleEvent, partInfo, type SupervisedServer } from "./supervisedServer.js";
export { waitForRestarts } from "./waitForRestarts.js";
export { waitForState } from "./waitForState.js";
