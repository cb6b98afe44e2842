import { type BridgeEvent, partEvents } from "../../machines/events.js";
import type { Logger } from "../logger.js";
import type { BadInputListener, KeptSocket } from "../sockets/keptSocket.js";

/**
 * Reports bad input a part's peer sent (undecodable or malformed frames, a message ZeroMQ dropped): a
 * `part.badFrame` event for the counters, and a warning logged at most once per 10 s per part socket,
 * carrying how many came since the last line. Bad input is counted, never fatal to the part.
 */
export function badInputReporter(
  kept: KeptSocket,
  logger: Logger,
  send: (event: BridgeEvent) => void,
  isOpen: () => boolean,
  line = "bad frames dropped",
): BadInputListener {
  return (count, reason) => {
    if (!isOpen() || count <= 0) return;
    send(partEvents.badFrame(count, reason));
    kept.badInputLog.hit((total) => logger.warn({ count: total, reason }, line), count);
  };
}
