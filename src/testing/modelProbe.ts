import { pino } from "pino";
import type { Logger } from "../logger.js";

/** One transition a part of a running server made, as its server's trace log reports it. */
export interface ObservedTransition {
  readonly part: string;
  /** The event type the part handled. */
  readonly event: string;
  /** The part's state afterwards (dotted). */
  readonly state: string;
}

/**
 * What `testServerModel` watches a server through: a logger at `trace` level (a server logs every
 * transition of every part there) that keeps the transitions and drops every other line. Give
 * `probe.logger` to the server as its `logger`.
 */
export interface ModelProbe {
  readonly logger: Logger;
  /** Every transition seen so far, oldest first. */
  readonly transitions: readonly ObservedTransition[];
  /** The transitions of `part` from index `from` of `transitions` on. */
  of(part: string, from?: number): ObservedTransition[];
}

/** Creates a probe whose logger records the transitions a server's trace log reports. */
export function createModelProbe(): ModelProbe {
  const transitions: ObservedTransition[] = [];
  // A destination object is written to synchronously: each transition is recorded as it happens.
  const destination = {
    write(line: string) {
      if (!line.includes('"msg":"transition"')) return;
      const entry = JSON.parse(line) as { actor?: string; event?: string; state?: string };
      if (entry.actor && entry.event && entry.state !== undefined)
        transitions.push({ part: entry.actor, event: entry.event, state: entry.state });
    },
  };
  const logger = pino({ level: "trace", base: undefined }, destination);
  return {
    logger,
    transitions,
    of: (part, from = 0) => transitions.slice(from).filter((t) => t.part === part),
  };
}
