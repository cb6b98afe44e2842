/**
 * palm-actors: servers, workers, the client, every part, ServerTemplate, codecs and errors.
 *
 * @module palm-actors
 */
// palm's public API: an explicit list of what users may import from "palm".

export { Client, type JobOptions, type JobResult } from "../actors/client.js";
export type { ClientOptions } from "../actors/clientOptions.js";
export { HttpConnection, type HttpConnectionOptions } from "../actors/connections/httpConnection.js";
export {
  PullBypassConnection,
  type PullBypassConnectionOptions,
} from "../actors/connections/pullBypassConnection.js";
export { PullConnection } from "../actors/connections/pullConnection.js";
export { PushBypassConnection } from "../actors/connections/pushBypassConnection.js";
export { PushConnection } from "../actors/connections/pushConnection.js";
export { RepConnection } from "../actors/connections/repConnection.js";
export { ReqConnection } from "../actors/connections/reqConnection.js";
export { SubConnection, type SubConnectionOptions } from "../actors/connections/subConnection.js";
export type { UserFunction } from "../actors/functionRunner.js";
export { GatewayDealer } from "../actors/gateway/gatewayDealer.js";
export { GatewayRouter } from "../actors/gateway/gatewayRouter.js";
export { GatewayServer, type GatewayServerOptions } from "../actors/gateway/gatewayServer.js";
export { HttpGateway, type HttpGatewayOptions } from "../actors/gateway/httpGateway.js";
export { HttpWorker, type HttpWorkerOptions } from "../actors/httpWorker.js";
export { Hub, type HubOptions } from "../actors/servers/hub.js";
export {
  type DistributingHooks,
  type DistributingOptions,
  DistributingServer,
  Master,
  type MasterOptions,
  type ServerCommonOptions,
  type ServerRuntimeOptions,
} from "../actors/servers/master.js";
export { PalmServer } from "../actors/servers/palmServer.js";
export { Pipeline, type PipelineOptions } from "../actors/servers/pipeline.js";
export {
  InProcessServer,
  type InProcessServerOptions,
  Server,
  type ServerOptions,
} from "../actors/servers/server.js";
export { Sink, type SinkOptions } from "../actors/servers/sink.js";
export { CacheService } from "../actors/services/cacheService.js";
export { DeliveryService, type DeliveryServiceOptions } from "../actors/services/deliveryService.js";
export { DispatchService, type DispatchServiceOptions } from "../actors/services/dispatchService.js";
export { HttpService, type HttpServiceOptions } from "../actors/services/httpService.js";
export { defaultHandleStream, PubService, type PubServiceOptions } from "../actors/services/pubService.js";
export { PullService } from "../actors/services/pullService.js";
export { PushPullService, type PushPullServiceOptions } from "../actors/services/pushPullService.js";
export { PushService } from "../actors/services/pushService.js";
export {
  type BypassRequestHandler,
  RepBypassService,
  type RepBypassServiceOptions,
} from "../actors/services/repBypassService.js";
export { RepService } from "../actors/services/repService.js";
export { StreamService, type StreamServiceOptions } from "../actors/services/streamService.js";
export { WorkerPullService } from "../actors/services/workerPullService.js";
export { WorkerPushService, type WorkerPushServiceOptions } from "../actors/services/workerPushService.js";
export { MuxWorker, Worker, type WorkerOptions } from "../actors/worker.js";
export { DeliveryLedger } from "../machines/deliveryLedger.js";
export {
  DELIVERY_DEFAULTS,
  type DeliveryOptions,
  type DeliveryStats,
  type WorkerInfo,
} from "../machines/deliveryTypes.js";
export type { BackoffPolicy, SupervisionPolicy, SupervisionStrategy } from "../machines/supervision.js";
export type { Delivery, PartRole, RestartType } from "../machines/types.js";
export type { StreamClients } from "./bridges/streamServiceBridge.js";
export { CacheClient, type CacheClientOptions } from "./cacheClient.js";
export { CacheStore } from "./cacheStore.js";
export { type Codec, type CodecName, getCodec, msgpackCodec, protobufCodec } from "./codec/index.js";
export { type ErrorCode, ErrorCodes, isPalmError, PalmError, RemoteError } from "./errors.js";
export type { InspectOptions } from "./inspection.js";
export { HEARTBEAT_FUNCTION } from "./liveness/heartbeat.js";
export type { LivenessEvent, RedeliveryReason } from "./liveness/livenessEvents.js";
export type { PeerEvent } from "./liveness/peerCount.js";
export { createLogger, type Logger, type LogLevel } from "./logger.js";
export { changePayload, createMessage, currentFunction, type PalmMessage, splitFunction } from "./message.js";
export { LATENCY_BUCKETS } from "./metrics/latency.js";
export type { MetricsOptions } from "./metrics/metricsOptions.js";
export { PalmMetrics } from "./metrics/palmMetrics.js";
export {
  definePart,
  type OptionCheck,
  type PartDefinition,
  type PartEnvironment,
  type PartHooks,
  type PartKind,
  type PartOptions,
  type PartSpec,
  type RegisteredPartOptions,
  type StreamItem,
} from "./part.js";
export type { ServerDescription } from "./partRegistry.js";
export {
  type AllowList,
  type CurveKeyPair,
  type CurveServerOptions,
  generateKeyPair,
  keygen,
  type PeerGroup,
} from "./security/curveKeys.js";
export {
  type AnyServerEvent,
  type PartInfo,
  type ServerEvent,
  type ServerEventMap,
  type ServerEventType,
  ServerTemplate,
  type ServerTemplateOptions,
} from "./serverTemplate.js";
export { type Stoppable, shutdownOnSignal } from "./shutdownOnSignal.js";
export type { BadInputListener, BatchListener, FrameBatch, KeptSocket } from "./sockets/keptSocket.js";
export type { SocketKeeper } from "./sockets/socketKeeper.js";
export type { CurveSocketOptions, SocketKind, SocketPlan } from "./sockets/socketPlan.js";
export type { SupervisionOptions } from "./supervisionOptions.js";
export { type Hop, NOT_SAMPLED, TRACER_NAME, type TracingOptions } from "./tracing/hops.js";
export type { CallContext } from "./worker/callContext.js";
