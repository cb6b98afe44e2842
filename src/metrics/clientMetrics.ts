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

/** Times a job's calls (the client's metrics): `sent` returns a send time, `answered` is given it back. */
export interface CallTimer {
  sent(): number;
  answered(result: PalmMessage, sentAt: number): void;
}

/** `performance.now()` in units of 10 µs, a small integer (no heap number to store) for 124 days. */
const now = (): number => Math.round(performance.now() * 100);

/**
 * A client's Prometheus metrics: calls sent, answered, failed by code, timed out and in flight, and the
 * round-trip latency per function (sent to first result). Per call the client pays a few counter updates
 * and one histogram observation, and reads the clock once per batch it sends or reads (`batch`); the send time is
 * kept where the client keeps the call anyway (a job's ledger, an eval's closure), so metrics add no map
 * of their own. Everything else is read when Prometheus scrapes.
 * @internal
 */
export class ClientMetrics implements CallTimer {
  /** The endpoint serving `/metrics`. */
  readonly endpoint: PalmMetrics;
  readonly #latency = new LatencyHistogram(true);
  readonly #errors = new Map<ErrorCode, number>();
  #sent = 0;
  #inFlight = 0;
  #results = 0;
  #timedOut = 0;
  /** The clock as read once for the batch under way (-1: not read yet for this one). */
  #batchAt = -1;

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
        { labels, value: this.#inFlight },
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

  /**
   * A batch begins (calls the client sends in one go, or results it read in one frame): the next call
   * timed reads the clock, and the rest of the batch shares that reading. A histogram whose finest
   * bucket is 0.5 ms loses nothing by it.
   */
  batch(): void {
    this.#batchAt = -1;
  }

  #clock(): number {
    if (this.#batchAt < 0) this.#batchAt = now();
    return this.#batchAt;
  }

  /** A call's message went out: counted, and its send time returned for `answered`. */
  sent(): number {
    this.#sent++;
    this.#inFlight++;
    return this.#clock();
  }

  /** A call's first result arrived (`sentAt`: what `sent` returned): counted and timed. */
  answered(result: PalmMessage, sentAt: number): void {
    this.#inFlight--;
    if (result.error === undefined) this.#results++;
    else {
      const code = remoteCode(result.error);
      this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
    }
    this.#latency.record(result.function, (this.#clock() - sentAt) / 100_000);
  }

  /** `count` calls ended without a result: they timed out (`timedOut`), or their job, server or client ended. */
  unanswered(count: number, timedOut: boolean): void {
    this.#inFlight -= count;
    if (timedOut) this.#timedOut += count;
  }
}
