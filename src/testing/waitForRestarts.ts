import type { PartInfo } from "../serverTemplate.js";
import { partInfo, type SupervisedServer } from "./supervisedServer.js";
import { until } from "./until.js";

/**
 * Resolves once `part` has been restarted at least `count` times and is ready again, with its row of
 * `server.parts()`; rejects after `timeoutMs`.
 *
 * @example
 * master.crash("WorkerPush");
 * const info = await waitForRestarts(master, "WorkerPush", 1);
 * assert.equal(info.restarts, 1);
 */
export function waitForRestarts(
  server: SupervisedServer,
  part: string,
  count: number,
  timeoutMs = 10_000,
): Promise<PartInfo> {
  let last: PartInfo | undefined;
  return until(
    () => {
      last = partInfo(server, part);
      return last.restarts >= count && last.status === "ready" ? last : undefined;
    },
    timeoutMs,
    () =>
      `waiting for part "${part}" to be restarted ${count} time(s) and ready (restarts: ${last?.restarts}, state: ${last?.state})`,
  );
}
