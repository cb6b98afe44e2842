import type { AnyEventObject } from "xstate";
import { partEvents } from "../../machines/events.js";
import { httpPartEvents } from "../../machines/httpPartSetup.js";
import { createMessage, type PalmMessage } from "../message.js";

function one(tag: string): PalmMessage[] {
  return [createMessage({ function: "model.f", payload: Buffer.from(tag) })];
}

function two(tag: string): PalmMessage[] {
  return [...one(`${tag}1`), ...one(`${tag}2`)];
}

/**
 * The events `partModel` tries on palm's part machines, with payloads that fit the part's context: the
 * bridge's (ready, received, sent, blocked, replied, bad frames, faults, a publisher's heartbeat timer; an HTTP part's open, request,
 * answered, posted), the router's (deliver, deliver all held, feedback for the current and for a stale ticket, pause,
 * resume) and the faults a test injects (crash, exit).
 */
export function modelEvents(snapshot: { value: unknown; context: any }): AnyEventObject[] {
  const context = snapshot.context ?? {};
  const events: AnyEventObject[] = [
    partEvents.ready(),
    partEvents.received(one("in")),
    partEvents.deliver({ seq: 1, messages: one("out"), origin: undefined, ticket: 0 }),
    // Two at once: past a `highWater` of 1 even from an empty queue.
    partEvents.deliver({ seq: 1, messages: two("out"), origin: undefined, ticket: 0 }),
    // What the router held for a part while it sent, handed over at once.
    partEvents.deliverAll([
      { seq: 1, messages: one("held"), origin: undefined, ticket: 0 },
      { seq: 2, messages: one("held"), origin: undefined, ticket: 0 },
    ]),
    partEvents.sent(1, 1, one("answer")),
    partEvents.blocked(),
    partEvents.replied(),
    partEvents.badFrame(1, "model"),
    partEvents.feedback(context.ticket ?? 0, one("feedback")),
    partEvents.feedback((context.ticket ?? 0) + 1000, one("stale")),
    partEvents.pause(),
    partEvents.resume(),
    partEvents.crash(new Error("crashed by the model")),
    partEvents.fault(new Error("socket failed in the model")),
    partEvents.exit(),
    // A publisher's heartbeat timer firing (a delayed event on the actor clock).
    partEvents.heartbeat(),
  ];
  if ("slots" in context) {
    events.push(httpPartEvents.open(1), httpPartEvents.open(2));
    const ticket = (context.messagesIn ?? 0) + 1;
    events.push(httpPartEvents.request(ticket, one("request")));
    events.push(partEvents.feedback(ticket - 1, one("answer")));
    events.push(httpPartEvents.answered(ticket - 1));
    const open = context.open?.[0] as { seq: number; answers: unknown[] } | undefined;
    if (open) {
      // Spread, so the holes of a fresh answers array count as unanswered.
      const index = [...open.answers].indexOf(undefined);
      if (index >= 0) events.push(httpPartEvents.posted(open.seq, index, one("posted")));
    }
  }
  return events;
}
