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
export { modelEvents } from "./modelEvents.js";
export { createModelProbe, type ModelProbe, type ObservedTransition } from "./modelProbe.js";
export { pacePayloads } from "./pacePayloads.js";
export {
  builtInDrivers,
  type DriverEnvironment,
  type PartDriver,
  type PartDriverFactory,
  PathNotDrivable,
  peerlessDriver,
  pullServiceDriver,
  pushServiceDriver,
  repServiceDriver,
  reqConnectionDriver,
} from "./partDrivers.js";
export {
  type ModelPath,
  type ModelStep,
  type ModelTransition,
  machineTransitions,
  type PartModel,
  type PartModelOptions,
  partModel,
} from "./partModel.js";
export { freeEndpoints, freePort, freePorts } from "./ports.js";
export { randomPaths } from "./randomPaths.js";
export {
  type SimulatedPart,
  type SimulatedPartKind,
  type SimulatedRouter,
  type SimulateRouterOptions,
  simulatedPartKinds,
  simulateRouter,
} from "./simulatedRouter.js";
export {
  type MasterAddresses,
  type MasterCluster,
  type StartMasterOptions,
  startMaster,
} from "./startMaster.js";
export { type LifecycleEvent, partInfo, type SupervisedServer } from "./supervisedServer.js";
export {
  type PartModelReport,
  type ServerFactory,
  type ServerModelOptions,
  type ServerModelReport,
  testServerModel,
} from "./testServerModel.js";
export { waitForRestarts } from "./waitForRestarts.js";
export { waitForState } from "./waitForState.js";
