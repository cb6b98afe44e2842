import type { PalmError } from "../../src/errors.js";
import type { Logger } from "../../src/logger.js";
import type { PartInfo, ServerEventMap, ServerTemplate } from "../../src/serverTemplate.js";

/**
 * What every ready-made server (Master, Hub, Server, Pipeline, Sink) and Worker offers: it is a
 * `ServerTemplate` underneath, and these pass through to it.
 */
export abstract class PalmServer {
  /** The composed server: its parts, router and cache. */
  abstract readonly template: ServerTemplate;

  get name(): string {
    return this.template.name;
  }

  get logger(): Logger {
    return this.template.logger;
  }

  /** Resolves with the cause if the server escalates (restart intensity exceeded). */
  get failed(): Promise<PalmError> {
    return this.template.failed;
  }

  /** Starts every part; resolves once all are ready. */
  start(): Promise<void> {
    return this.template.start();
  }

  /** Stops every part and closes every socket. Idempotent. */
  stop(): Promise<void> {
    return this.template.stop();
  }

  /** Crashes a part on purpose; it is supervised like a real fault. */
  crash(part: string, reason?: string): boolean {
    return this.template.crash(part, reason);
  }

  /** Makes a part's socket fail on purpose. */
  failSocket(part: string, reason?: string): boolean {
    return this.template.failSocket(part, reason);
  }

  /** Ends a part normally (for restart-type tests): `permanent` parts restart, the others stay stopped. */
  exitPart(part: string): boolean {
    return this.template.exitPart(part);
  }

  /** Makes a part's next hook call throw, once. */
  failHook(part: string, hook?: "scatter" | "gather" | "handleStream"): void {
    this.template.failHook(part, hook);
  }

  /** Each part's state, counters and restarts. */
  parts(): PartInfo[] {
    return this.template.parts();
  }

  /** Subscribes to lifecycle events (or, on Master and Hub, worker events by name); returns the unsubscribe function. */
  on<K extends keyof ServerEventMap>(type: K, listener: (event: ServerEventMap[K]) => void): () => void {
    return this.template.on(type, listener);
  }
}
