import type { RouterEmitted } from "../../machines/router.js";
import type { PartInfo } from "../serverTemplate.js";

/** One of the lifecycle events a server emits, by type. */
export type LifecycleEvent<T extends RouterEmitted["type"]> = Extract<RouterEmitted, { type: T }>;

/**
 * What palm's restart-test helpers need from a server: a `Master`, `Hub`, `Worker`, any ready-made server
 * or a `ServerTemplate` fits.
 */
export interface SupervisedServer {
  /** Crashes a part on purpose; `false` when it had no running instance. */
  crash(part: string, reason?: string): unknown;
  /** Makes a part's socket fail on purpose (servers, not workers). */
  failSocket?(part: string, reason?: string): unknown;
  /** Each part's state and restarts. */
  parts(): readonly PartInfo[];
  /** Listens to a part's restarts. */
  on(type: "part.restarted", listener: (event: LifecycleEvent<"part.restarted">) => void): () => void;
  /** Listens to the server giving up (restart intensity exceeded). */
  on(type: "server.escalated", listener: (event: LifecycleEvent<"server.escalated">) => void): () => void;
}

/** The part's row of `server.parts()`; throws when the server has no such part. */
export function partInfo(server: SupervisedServer, part: string): PartInfo {
  const info = server.parts().find((p) => p.name === part);
  if (!info) {
    const names = server.parts().map((p) => p.name);
    throw new Error(`The server has no part named "${part}" (its parts: ${names.join(", ")})`);
  }
  return info;
}
