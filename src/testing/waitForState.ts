import type { PartInfo } from "../serverTemplate.js";
import { partInfo, type SupervisedServer } from "./supervisedServer.js";
import { until } from "./until.js";

/** Whether a dotted state (`running.ready.flowing`) is `prefix` or inside it. */
function inState(state: string, prefix: string): boolean {
  return state === prefix || state.startsWith(`${prefix}.`);
}

/**
 * Resolves once `part`'s state (as `server.parts()` reports it) is `statePrefix` or one of its substates,
 * with the part's row; rejects after `timeoutMs`. `down` is a part waiting for its restart, `stopped` a
 * part that will not be restarted.
 *
 * @example
 * master.crash("Pull");
 * await waitForState(master, "Pull", "running.ready");
 */
export function waitForState(
  server: SupervisedServer,
  part: string,
  statePrefix: string,
  timeoutMs = 5000,
): Promise<PartInfo> {
  let last = "";
  return until(
    () => {
      const info = partInfo(server, part);
      last = info.state;
      return inState(info.state, statePrefix) ? info : undefined;
    },
    timeoutMs,
    () => `waiting for part "${part}" to be in "${statePrefix}" (it is in "${last}")`,
  );
}
