import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { invalidOption } from "../errors.js";
import { currentFunction, NOT_SAMPLED, type PalmMessage } from "../message.js";
import { checkInteger, checkNumber, checkOptionKeys, checkOptionsObject } from "../validate.js";
import { HeadSampler } from "./headSampler.js";
import { contextOf, formatTraceparent } from "./traceContext.js";

/** The instrumentation scope palm's spans are created under. */
export const TRACER_NAME = "palm-actors";

/** The hops of a call palm traces, each a span named `<hop> <server.fn>`. */
export type Hop = "send" | "route" | "execute" | "publish" | "receive";

/** Each hop's span options, made once (the client asks for a span on every call), frozen as shared. */
const OPTIONS: Record<Hop, SpanOptions> = {
  send: Object.freeze({ kind: SpanKind.PRODUCER }),
  route: Object.freeze({ kind: SpanKind.CONSUMER }),
  execute: Object.freeze({ kind: SpanKind.CONSUMER }),
  publish: Object.freeze({ kind: SpanKind.PRODUCER }),
  receive: Object.freeze({ kind: SpanKind.CONSUMER }),
};

/** palm's tracer: it follows the global tracer provider, whenever one is registered. */
const tracer = trace.getTracer(TRACER_NAME);
/** What a hop of an unsampled call gets: a span that records nothing. */
const UNSAMPLED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export { HeadSampler, NOT_SAMPLED };

/**
 * Whether a message carries a trace context whose sampled flag is off (`NOT_SAMPLED`, or a `traceparent`
 * with the flag off, as older palm peers pass on). Only the flag is read: a malformed context passes on
 * unchanged, and every hop that does make a span ignores it (`contextOf`).
 */
function notSampled(traceparent: string | undefined): boolean {
  if (traceparent === undefined) return false;
  if (traceparent === NOT_SAMPLED) return true;
  return traceparent.length === 55 && (Number.parseInt(traceparent.charAt(54), 16) & 1) === 0;
}

/**
 * The `tracing` option of a client, a distributing server or a worker: `true` for a span per hop of every
 * call, or an object to say which share of the calls whose trace starts in this process get one, and
 * whether they are drawn alone or in runs (see `HeadSampler`).
 */
export type TracingOptions = boolean | { sampleRatio?: number; sampleRun?: number };

/** What `tracing: true` samples: every call (the SDK's own sampler, if any, then decides). */
const EVERY_CALL = new HeadSampler(1);

/**
 * Checks a `tracing` option; throws naming it. It gives the sampler of the calls whose trace starts here
 * (every call with `true`), or `undefined` when tracing is off. A ratio under 1 makes a new sampler at
 * each check: the runs it draws belong to the part that checked it.
 */
export function checkTracingOption(value: unknown): HeadSampler | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return EVERY_CALL;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidOption("tracing", "true, false or { sampleRatio, sampleRun }", value);
  }
  const options = checkOptionsObject("tracing", value);
  checkOptionKeys("`tracing`", options, { sampleRatio: true, sampleRun: true });
  const { sampleRatio, sampleRun } = options;
  const ratio = sampleRatio === undefined ? 1 : checkNumber("tracing.sampleRatio", sampleRatio, 0, 1);
  const run = sampleRun === undefined ? 1 : checkInteger("tracing.sampleRun", sampleRun, 1, 10_000);
  return ratio === 1 ? EVERY_CALL : new HeadSampler(ratio, run);
}

/**
 * Starts the span of one hop of `message`, child of the span its `trace` names, and makes the message
 * carry the new span's context onward. The caller ends the span.
 *
 * A message that names no parent starts a trace here, if `sampler` draws it; the others carry
 * `NOT_SAMPLED` on at once. That is palm's own head sampling: a `Math.random` draw, against the 1-3 µs of
 * an SDK's root decision (new random trace and span ids, its sampler, its span counters) on every call.
 */
export function startHop(hop: Hop, message: PalmMessage, peer: string, sampler = EVERY_CALL): Span {
  // The caller's sampling decision holds for the whole call (as OpenTelemetry's parent-based samplers
  // decide): a message whose trace is not sampled passes on unchanged, at the cost of this check.
  if (notSampled(message.trace)) return UNSAMPLED;
  const parent = contextOf(message.trace);
  if (parent === ROOT_CONTEXT && sampler.ratio < 1 && !sampler.draw()) {
    message.trace = NOT_SAMPLED;
    return UNSAMPLED;
  }
  const fn = currentFunction(message);
  const span = tracer.startSpan(`${hop} ${fn}`, OPTIONS[hop], parent);
  // Attributes only for a span that records them: a root span the sampler dropped (99 % of a client's
  // calls at 1 %) costs no attribute object.
  if (span.isRecording()) {
    span.setAttribute("messaging.system", "palm");
    span.setAttribute("palm.function", fn);
    span.setAttribute("palm.peer", peer);
    if (message.id !== undefined) span.setAttribute("messaging.message.id", message.id);
  }
  const context = span.spanContext();
  // Without an SDK the span is the remote parent itself (already what the message carries) or invalid.
  if (context.isRemote || context.traceId === INVALID_SPAN_CONTEXT.traceId) return span;
  // A span the SDK dropped still passes its decision on (as `NOT_SAMPLED`), so one holds for the call.
  const dropped = (context.traceFlags & 1) === 0 && !span.isRecording();
  message.trace = dropped ? NOT_SAMPLED : formatTraceparent(context);
  return span;
}

/** Traces one instantaneous hop (send, route, publish, receive): the span starts and ends here. */
export function traceHop(hop: Hop, message: PalmMessage, peer: string, sampler = EVERY_CALL): void {
  // A call not sampled: nothing to start or end (the common case with an SDK sampling a few calls).
  if (notSampled(message.trace)) return;
  const span = startHop(hop, message, peer, sampler);
  if (message.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: message.error });
  span.end();
}

/**
 * A worker's function runner as tracing and metrics wrap it: a message in, its results out.
 * @internal
 */
export type MessageRunner<C> = (message: PalmMessage, context?: C) => PalmMessage[] | Promise<PalmMessage[]>;

/**
 * Wraps a worker's function runner so each call is an `execute` span its results carry onward; `sampler`
 * is the `tracing` option as `checkTracingOption` gives it (`undefined`: tracing off, `run` unwrapped).
 */
export function traceRuns<C>(
  run: MessageRunner<C>,
  sampler: HeadSampler | undefined,
  worker: string,
): MessageRunner<C> {
  if (sampler === undefined) return run;
  return (message, context) => {
    const span = startHop("execute", message, worker, sampler);
    const trace = message.trace;
    const results = run(message, context);
    // A call that returns at once (most do) costs no closure.
    if (Array.isArray(results)) return endRun(span, trace, results);
    return results.then(
      (list) => endRun(span, trace, list),
      (error: unknown) => {
        span.end();
        throw error;
      },
    );
  };
}

/** Ends a call's `execute` span: its results carry `trace` onward, an error result marks the span. */
function endRun(span: Span, trace: string | undefined, results: PalmMessage[]): PalmMessage[] {
  for (const result of results) {
    result.trace = trace;
    if (result.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: result.error });
  }
  span.end();
  return results;
}
