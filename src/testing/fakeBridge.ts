import { type CallbackActorLogic, fromCallback } from "xstate";
import type { BridgeCommand, BridgeEvent } from "../../machines/events.js";
import { partEvents } from "../../machines/events.js";
import type { PartInput } from "../../machines/partSetup.js";

/** A command a part machine gave one of its bridges. */
export interface FakeBridgeCommand {
  /** The part's name. */
  readonly part: string;
  /** Which instance of the part's bridge (1 for the first, 2 after one restart, …). */
  readonly instance: number;
  readonly command: BridgeCommand;
}

/** Options of `createFakeBridge`. */
export interface FakeBridgeOptions {
  /** Report `part.ready` as soon as a bridge opens, as a socket that binds at once would. @default false */
  autoReady?: boolean;
}

/** A socket-free stand-in for a part's bridge, and the controls to play the socket's side by hand. */
export interface FakeBridge {
  /** The bridge logic: give it to a part machine with `machine.provide({ actors: { bridge } })`. */
  readonly bridge: CallbackActorLogic<BridgeCommand, PartInput>;
  /** Every command the parts' machines gave their bridges, in order. */
  readonly commands: FakeBridgeCommand[];
  /** Bridges opening and closing, in order: `open:Pull#1`, `close:Pull#1`, … */
  readonly log: string[];
  /** Sends an event from `part`'s open bridge to its machine (`part.ready`, `part.received`, `part.sent`, …). */
  emit(part: string, event: BridgeEvent): void;
  /** Whether `part` has an open bridge (its machine is running). */
  isOpen(part: string): boolean;
  /** How many bridges `part` has opened so far (1 + its restarts, while running). */
  instances(part: string): number;
  /** The commands `part` received, optionally only those of one type. */
  commandsOf(part: string, type?: BridgeCommand["type"]): BridgeCommand[];
}

/**
 * A fake bridge for pure machine tests: part machines run with it exactly as with a socket, and the test
 * plays the socket (`emit`) and reads what the machine asked of it (`commands`). No I/O, no timers.
 *
 * @example
 * const fake = createFakeBridge({ autoReady: true });
 * const logic = outboundPartMachine.provide({ actors: { bridge: fake.bridge } });
 * const router = createActor(routerMachine, {
 *   input: {
 *     server: "test",
 *     policy: DEFAULT_SUPERVISION,
 *     parts: [{ name: "Push", role: "outbound", route: undefined, block: false, restart: "permanent", logic,
 *               input: { name: "Push", role: "outbound", partType: "PushService" } }],
 *   },
 * }).start();
 * fake.commandsOf("Push", "bridge.send"); // what the router made the part send
 */
export function createFakeBridge(options: FakeBridgeOptions = {}): FakeBridge {
  const commands: FakeBridgeCommand[] = [];
  const log: string[] = [];
  const open = new Map<string, (event: BridgeEvent) => void>();
  const counts = new Map<string, number>();
  const bridge = fromCallback<BridgeCommand, PartInput>(({ input, sendBack, receive }) => {
    const part = input.name;
    const instance = (counts.get(part) ?? 0) + 1;
    counts.set(part, instance);
    const send = sendBack as (event: BridgeEvent) => void;
    open.set(part, send);
    log.push(`open:${part}#${instance}`);
    receive((command) => {
      commands.push({ part, instance, command });
    });
    if (options.autoReady) send(partEvents.ready());
    return () => {
      if (open.get(part) === send) open.delete(part);
      log.push(`close:${part}#${instance}`);
    };
  });
  return {
    bridge,
    commands,
    log,
    emit(part, event) {
      const send = open.get(part);
      if (!send) throw new Error(`Part "${part}" has no open bridge`);
      send(event);
    },
    isOpen: (part) => open.has(part),
    instances: (part) => counts.get(part) ?? 0,
    commandsOf: (part, type) =>
      commands
        .filter((c) => c.part === part && (type === undefined || c.command.type === type))
        .map((c) => c.command),
  };
}
