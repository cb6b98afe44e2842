import { performance } from "node:perf_hooks";
import { type ErrorCode, remoteCode } from "../errors.js";
import type { PalmMessage } from "../message.js";
import { collected, type Sample } from "./collected.js";
import { LatencyHistogram } from "./latency.js";
import { checkMetricsOptions } from "./metricsOptions.js";
import { PalmMetrics } from "./palmMetrics.js";

/** What the client metrics read from a client at scrape time (counters it keeps anyway). */
export interface MeteredClient {
  readonly serverName: string;
  readonly unexpectedResults: number;
  readonly resentMessages: number;
}

/** `performance.now()` in units of 10 µs, a small integer (no heap number to store) for 124 days. */
const now = (): number => Math.round(performance.now() * 100);

/**
 * A client's Prometheus metrics: calls sent, answered, failed by code, timed out and in flight, and the
 * round-trip latency per function (sent to first result). Per call the client pays a counter increment,
 * a map entry keyed by the message id it already has (a small integer value: nothing allocated) and one
 * histogram observation; everything else is read when Prometheus scrapes.
 * @internal
 */
export class ClientMetrics {
  /** The endpoint serving `/metrics`. */
  readonly endpoint: PalmMetrics;
  /** When each call without a result yet was sent, by message id, in insertion (send) order. */
  readonly #sentAt = new Map<string, number>();
  readonly #latency = new LatencyHistogram(true);
  readonly #errors = new Map<ErrorCode, number>();
  #sent = 0;
  #results = 0;
  #timedOut = 0;

  /** Checks the `metrics` option (`{ port, host }`) and declares the client's metrics. */
  constructor(options: unknown, client: MeteredClient) {
    this.endpoint = new PalmMetrics(checkMetricsOptions(options));
    const labels = { server: client.serverName };
    const counter = (name: string, help: string, read: () => number) =>
      this.endpoint.add(collected(name, help, "counter", () => [{ labels, value: read() }]));
    counter("palm_client_calls_sent_total", "Calls (messages) the client sent.", () => this.#sent);
    counter(
      "palm_client_results_total",
      "Calls answered with a result (an error result counts in palm_client_errors_total instead).",
      () => this.#results,
    );
    this.endpoint.add(
      collected("palm_client_errors_total", "Calls answered with an error, by code.", "counter", () =>
        [...this.#errors].map(([code, value]): Sample => ({ labels: { ...labels, code }, value })),
      ),
    );
    counter("palm_client_timeouts_total", "Calls that had no result within timeoutMs.", () => this.#timedOut);
    counter(
      "palm_client_unexpected_results_total",
      "Results for no call waiting (duplicates, or answers after a timeout), dropped.",
      () => client.unexpectedResults,
    );
    counter(
      "palm_client_resent_total",
      "Messages sent again because the server restarted without answering them.",
      () => client.resentMessages,
    );
    this.endpoint.add(
      collected("palm_client_in_flight_messages", "Calls sent and not answered yet.", "gauge", () => [
        { labels, value: this.#sentAt.size },
      ]),
    );
    this.endpoint.add(
      this.#latency.metric(
        "palm_client_call_duration_seconds",
        "Round trip of a call, from the client sending it to its first result, per function.",
        labels,
      ),
    );
  }

  /** A call's message went out. */
  sent(message: PalmMessage): void {
    this.#sent++;
    this.#sentAt.set(message.id as string, now());
  }

  /** A result arrived: a call answered is timed and counted, anything else (a duplicate) is not. */
  received(message: PalmMessage): void {
    const id = message.id;
    let key = id;
    let start = key === undefined ? undefined : this.#sentAt.get(key);
    if (start === undefined) {
      // Sent again after a restart (`@<n>`), split off by a scatter (`/<k>`), or from a server that
      // carries no ids (pylm: the oldest call is the one answered, as the client's job ledger counts it).
      key = id === undefined ? this.#sentAt.keys().next().value : id.slice(0, firstCut(id));
      start = key === undefined ? undefined : this.#sentAt.get(key);
      if (start === undefined) return;
    }
    this.#sentAt.delete(key as string);
    if (message.error === undefined) this.#results++;
    else {
      const code = remoteCode(message.error);
      this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
    }
    this.#latency.record(message.function, (now() - start) / 100_000);
  }

  /** These calls had no result in time. */
  timedOut(messages: Iterable<PalmMessage>): void {
    for (const message of messages) {
      if (this.#sentAt.delete(message.id as string)) this.#timedOut++;
    }
  }

  /** These calls ended without a result (their job ended, the server or the client stopped). */
  ended(messages: Iterable<PalmMessage>): void {
    for (const message of messages) this.#sentAt.delete(message.id as string);
  }
}

/** Where a result id's suffix (`@<n>`, `/<k>`) starts, or its length. */
function firstCut(id: string): number {
  const at = id.indexOf("@");
  const slash = id.indexOf("/");
  if (at === -1) return slash === -1 ? id.length : slash;
  return slash === -1 ? at : Math.min(at, slash);
}
