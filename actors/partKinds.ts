import { blockingInboundPartMachine } from "../machines/blockingInboundPart.js";
import { blockingOutboundPartMachine } from "../machines/blockingOutboundPart.js";
import { bypassPartMachine } from "../machines/bypassPart.js";
import { httpInboundPartMachine } from "../machines/httpInboundPart.js";
import { httpOutboundPartMachine } from "../machines/httpOutboundPart.js";
import { inboundPartMachine } from "../machines/inboundPart.js";
import { outboundPartMachine } from "../machines/outboundPart.js";
import type { PartKind } from "../src/part.js";

/** The part kinds, for parts that bind their socket (`service`) or connect it: each names its kind once. */
function kinds(service: boolean) {
  const kind = (
    role: PartKind["role"],
    blocking: boolean,
    scheme: PartKind["scheme"],
    machine: PartKind["machine"],
  ): PartKind => ({ role, blocking, service, scheme, machine });
  return {
    /** Hands what it receives to the router. */
    inbound: kind("inbound", false, "zmq", inboundPartMachine),
    /** Hands each request to the router and answers it with the feedback of its route. */
    blockingInbound: kind("inbound", true, "zmq", blockingInboundPartMachine),
    /** Serves HTTP requests, each answered with the feedback of its route. */
    httpInbound: kind("inbound", true, "http", httpInboundPartMachine),
    /** Sends what the router hands it. */
    outbound: kind("outbound", false, "zmq", outboundPartMachine),
    /** Sends what the router hands it and waits for the answers, its feedback. */
    blockingOutbound: kind("outbound", true, "zmq", blockingOutboundPartMachine),
    /** POSTs what the router hands it; the answers are its feedback. */
    httpOutbound: kind("outbound", true, "http", httpOutboundPartMachine),
    /** Outside the router: the server's code or the part itself handles what it carries. */
    bypass: kind("bypass", false, "zmq", bypassPartMachine),
    /** Outside the router, answering each request itself. */
    blockingBypass: kind("bypass", true, "zmq", bypassPartMachine),
    /** Outside the router, answering HTTP requests. */
    httpBypass: kind("bypass", true, "http", bypassPartMachine),
  };
}

/** Kinds of parts that bind their socket. */
export const services = kinds(true);

/** Kinds of parts that connect their socket. */
export const connections = kinds(false);
