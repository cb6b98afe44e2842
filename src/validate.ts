import { invalidOption, PalmError } from "./errors.js";

const ZMQ_ENDPOINT =
  /^(tcp:\/\/(\*|[A-Za-z0-9.\-_]+|\[[0-9a-fA-F:.]+\]):(\*|\d{1,5})|ipc:\/\/.+|inproc:\/\/.+)$/;
const HTTP_URL = /^https?:\/\/[^\s/]+(:\d{1,5})?(\/\S*)?$/;

/** Checks a ZeroMQ endpoint such as `tcp://127.0.0.1:5555`; throws an error naming `option`. */
export function checkEndpoint(option: string, value: unknown): string {
  if (typeof value !== "string" || !ZMQ_ENDPOINT.test(value)) {
    throw invalidOption(option, "a ZeroMQ endpoint like tcp://host:port", value);
  }
  const port = /:(\d+)$/.exec(value)?.[1];
  if (value.startsWith("tcp://") && port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw invalidOption(option, "a ZeroMQ endpoint with a port from 1 to 65535", value);
  }
  return value;
}

/** Checks an HTTP address such as `http://127.0.0.1:8888`. */
export function checkHttpUrl(option: string, value: unknown): string {
  if (typeof value !== "string" || !HTTP_URL.test(value)) {
    throw invalidOption(option, "an HTTP address like http://host:port", value);
  }
  return value;
}

/** Checks an optional endpoint: undefined passes. */
export function checkOptionalEndpoint(option: string, value: unknown): string | undefined {
  return value === undefined ? undefined : checkEndpoint(option, value);
}

/** Checks a non-empty string. */
export function checkName(option: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0)
    throw invalidOption(option, "a non-empty string", value);
  return value;
}

/** Checks a whole number within bounds. */
export function checkInteger(
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(option, `a whole number from ${min} to ${max}`, value);
  }
  return value;
}

/** Checks a number within bounds. */
export function checkNumber(
  option: string,
  value: unknown,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number {
  if (typeof value !== "number" || Number.isNaN(value) || value < min || value > max) {
    throw invalidOption(option, `a number from ${min} to ${max}`, value);
  }
  return value;
}

/** Checks that an options argument is a plain object (or absent). */
export function checkOptionsObject(option: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidOption(option, "an options object", value);
  }
  return value as Record<string, unknown>;
}

/** Checks a value is one of `choices`. */
export function checkChoice<T extends string>(option: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== "string" || !choices.includes(value as T)) {
    throw invalidOption(option, `one of ${choices.map((c) => `"${c}"`).join(", ")}`, value);
  }
  return value as T;
}

/**
 * Checks an option that names an HTTP listener (`inspect`, `metrics`): an object with no key outside
 * `keys`, an integer `port` (0: any free one) and, if given, a non-empty `host`. Errors name the option
 * (`inspect.host`, …). Returns the object for the caller's own keys.
 */
export function checkListenOption<T extends { port: number; host?: string }>(
  option: string,
  value: unknown,
  keys: ReadonlySet<string>,
): T {
  const options = checkOptionsObject(option, value) as unknown as T;
  for (const key of Object.keys(options)) {
    if (!keys.has(key)) throw invalidOption(`${option}.${key}`, `one of ${[...keys].join(", ")}`, key);
  }
  checkInteger(`${option}.port`, options.port, 0, 65535);
  if (options.host !== undefined && (typeof options.host !== "string" || options.host === ""))
    throw invalidOption(`${option}.host`, "a host name or address", options.host);
  return options;
}

/** The option keys a constructor accepts, as built by `optionKeys`. @internal */
export type OptionKeys<Options> = Readonly<Record<keyof Options, true>>;

/**
 * The keys of `Options` as an object of `true`s. The compiler rejects a list that misses a key of the type
 * or names one it lacks, so the list cannot drift from the type. @internal
 *
 * @example
 * const KEYS = optionKeys<ClientOptions>()({ serverName: true, dbAddress: true, ... });
 */
export function optionKeys<Options>() {
  return <Keys extends Record<keyof Options, true>>(
    keys: Keys & Record<Exclude<keyof Keys, keyof Options>, never>,
  ): OptionKeys<Options> => keys;
}

/** Edit distance between two short strings (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/** The known key closest to `key` (case aside), if one is close enough to be the one meant. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(key.length / 4)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/**
 * Rejects an option key `known` does not list (a typo such as `callTimeoutMS`), naming the key, the
 * constructor (`owner`) and the known key it is closest to, if any.
 */
export function checkOptionKeys(owner: string, options: object, known: Readonly<Record<string, true>>): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    const names = Object.keys(known);
    const close = closestKey(key, names);
    const hint = close === undefined ? `; it accepts: ${names.join(", ")}` : `; did you mean \`${close}\`?`;
    throw new PalmError("PALM_ERR_OPTION_INVALID", `Unknown option \`${key}\` for ${owner}${hint}`);
  }
}

/**
 * Rejects two address options of `keys` (all bound by one server) that are the same string: the second
 * bind would fail at `start()`. Wildcard ports (`:*`, `:0`) never clash.
 */
export function checkDistinctBinds(options: object, keys: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const key of keys) {
    const value = (options as Record<string, unknown>)[key];
    if (typeof value !== "string" || /:(\*|0)$/.test(value)) continue;
    const other = seen.get(value);
    if (other !== undefined) {
      throw new PalmError(
        "PALM_ERR_OPTION_INVALID",
        `Expected \`${other}\` and \`${key}\` to differ: both are ${value}, and one server cannot bind an address twice`,
      );
    }
    seen.set(value, key);
  }
}
