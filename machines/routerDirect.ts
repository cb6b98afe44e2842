import { partEvents } from "./events.js";
import { appendDelivery, type RouterContext, routeOf } from "./routerLedger.js";
import type { PalmMessage } from "./types.js";

// The router's fast path: a batch whose route is ready and not sending what it was handed goes straight
// to it as one `part.deliver`, sent by one built-in `sendTo` (see the router's `routeDirectly`).

/**
 * The part a batch goes straight to as one `part.deliver` (the common case: its route is ready and not
 * sending what it was handed), or undefined when `routeBatch` must decide (hold it, answer at once,
 * press the feeders). Reads the ledger only.
 */
export function directRoute(
  context: RouterContext,
  part: string,
  messages: readonly PalmMessage[],
  to: string | undefined,
  envelope: unknown,
): string | undefined {
  const spec = context.records[part]?.spec;
  if (!spec || (messages.length === 0 && envelope === undefined)) return undefined;
  const route = routeOf(context, spec, to);
  const target = route === undefined ? undefined : context.records[route];
  if (target?.status !== "ready") return undefined;
  if (target.takesBatches && target.pending.length > 0 && target.pending[0]!.seq <= target.handedSeq)
    return undefined;
  return route;
}

/**
 * Records a batch `directRoute` sends to `target` in its ledger and leaves the `part.deliver` that hands
 * it over in `context.direct` (the router sends it with one built-in `sendTo`).
 */
export function deliverDirect(
  context: RouterContext,
  target: string,
  part: string,
  messages: PalmMessage[],
  ticket: number | undefined,
  envelope: unknown,
): void {
  const record = context.records[target]!;
  const origin = ticket === undefined ? undefined : part;
  const delivery = appendDelivery(context, record, messages, origin, ticket ?? 0, part, envelope);
  record.handedSeq = delivery.seq;
  context.direct.to = target;
  context.direct.event = partEvents.deliver(delivery);
}

/**
 * Whether an acknowledgement settles without a word to any part (the common case): the part reroutes
 * nothing, no blocking part waits for what it settles, and nothing is held for it to hand over.
 * Reads the ledger only; the router then settles it with a plain action.
 */
export function settlesQuietly(
  context: RouterContext,
  part: string,
  seq: number,
  feedback: readonly PalmMessage[] | undefined,
): boolean {
  const record = context.records[part];
  if (!record || record.spec.route !== undefined || feedback !== undefined) return false;
  const { pending } = record;
  let settled = 0;
  while (settled < pending.length && pending[settled]!.seq <= seq) {
    if (pending[settled]!.origin !== undefined) return false;
    settled++;
  }
  return !record.takesBatches || record.status !== "ready" || settled === pending.length;
}
