import { type Context, isSpanContextValid, ROOT_CONTEXT, type SpanContext, trace } from "@opentelemetry/api";

/** The longest trace context palm reads from a peer: a W3C `traceparent` is 55 characters. */
const MAX_LENGTH = 55;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The W3C `traceparent` of a span context (`00-<trace id>-<span id>-<flags>`), what a message carries in
 * its `trace` field.
 */
export function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`;
}

/**
 * The OpenTelemetry context whose remote parent is the span a message's `trace` names; the root context
 * when it names none, or something that is not a valid `traceparent` (a peer's bad input is ignored).
 */
export function contextOf(traceparent: string | undefined): Context {
  if (traceparent === undefined || traceparent.length > MAX_LENGTH) return ROOT_CONTEXT;
  const match = TRACEPARENT.exec(traceparent);
  if (!match) return ROOT_CONTEXT;
  const parent: SpanContext = {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: Number.parseInt(match[3] as string, 16) & 1,
    isRemote: true,
  };
  return isSpanContextValid(parent) ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
}
