import { type LevelWithSilent, type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

/** Log levels palm accepts (pino's). */
export type LogLevel = LevelWithSilent;

const LEVELS: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Whether `value` is a log level. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && LEVELS.includes(value);
}

/**
 * The root logger of one server, worker or client: pino, pretty-printed when stderr is a terminal, JSON
 * lines otherwise. Logs go to stderr so a program's stdout stays its own. Parts log through
 * `logger.child({ part })`.
 */
export function createLogger(options: {
  name: string;
  level?: LogLevel;
  logger?: Logger;
  kind?: string;
}): Logger {
  const bindings = { [options.kind ?? "server"]: options.name };
  if (options.logger) return options.logger.child(bindings);
  const level = options.level ?? (process.env.PALM_LOG_LEVEL as LogLevel | undefined) ?? "info";
  const destination = process.stderr.isTTY
    ? pretty({ colorize: true, destination: 2, sync: true, ignore: "pid,hostname" })
    : pino.destination({ fd: 2, sync: true });
  return pino({ level, base: undefined }, destination).child(bindings);
}

/** Logs at most one line per `intervalMs` for a recurring problem, with how many occurrences it covers. */
export class RateLimitedLog {
  #last = 0;
  #suppressed = 0;
  readonly #intervalMs: number;
  constructor(intervalMs = 10_000) {
    this.#intervalMs = intervalMs;
  }
  /** Calls `write(count)` if the interval has passed, `count` being the occurrences since the last line. */
  hit(write: (count: number) => void, count = 1): void {
    this.#suppressed += count;
    const now = Date.now();
    if (now - this.#last < this.#intervalMs) return;
    this.#last = now;
    const total = this.#suppressed;
    this.#suppressed = 0;
    write(total);
  }
}
