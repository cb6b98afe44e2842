import { PalmError } from "./errors.js";
import type { PartDefinition, PartOptions } from "./part.js";

/** The keys of `PartOptions`: every part accepts them. */
const COMMON_KEYS: ReadonlySet<string> = new Set<keyof PartOptions>([
  "route",
  "block",
  "restart",
  "highWater",
  "highWaterMark",
  "maxMessageSize",
  "curve",
  "observePeers",
  "peers",
  "feeds",
  "scatter",
  "divert",
  "gather",
  "handleStream",
]);

/**
 * Rejects an option key that neither `PartOptions` nor the part's own `optionKeys` declare (a typo such
 * as `rout`), naming the part and the key. A part kind declares its keys with one line: `optionKeys`.
 */
export function checkPartOptionKeys(part: PartDefinition, name: string, options: object): void {
  for (const key of Object.keys(options)) {
    if (COMMON_KEYS.has(key) || part.optionKeys?.includes(key)) continue;
    const own = part.optionKeys?.length ? `, or its own: ${part.optionKeys.join(", ")}` : "";
    throw new PalmError(
      "PALM_ERR_OPTION_INVALID",
      `Unknown option \`${key}\` for part "${name}" (${part.partType}); it accepts the common part options (${[...COMMON_KEYS].join(", ")})${own}`,
    );
  }
}
