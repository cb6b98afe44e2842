import type { PartRole } from "../machines/types.js";
import { invalidOption, PalmError } from "./errors.js";
import type { PartDefinition, PartOptions, RegisteredPartOptions } from "./part.js";
import { checkPartOptionKeys } from "./partOptions.js";
import { checkEndpoint, checkHttpUrl, checkName, checkOptionsObject } from "./validate.js";

/** One part as registered, before the server starts. @internal */
export interface Registration {
  readonly part: PartDefinition;
  readonly name: string;
  readonly address: string;
  readonly role: PartRole;
  readonly options: RegisteredPartOptions;
}

/** The routing table `describe()` gives (what `palm viz` draws). */
export interface ServerDescription {
  name: string;
  parts: Array<{
    name: string;
    kind: PartRole;
    partType: string;
    route?: string;
    block?: boolean;
    feeds?: string[];
    address: string;
  }>;
}

/**
 * A server's parts as registered, in registration order: each checked as it is registered (its kind, name,
 * address and options), the routes checked together before the server starts. @internal
 */
export class PartRegistry {
  readonly #server: string;
  readonly #registrations: Registration[] = [];

  constructor(server: string) {
    this.#server = server;
  }

  /** Every registration, in order. */
  get all(): readonly Registration[] {
    return this.#registrations;
  }

  /** The registration of the part named `name`, if any. */
  find(name: string): Registration | undefined {
    return this.#registrations.find((r) => r.name === name);
  }

  /** Checks a part and its options and adds it; throws naming the part and what is wrong. */
  add(role: PartRole, part: PartDefinition, name: string, address: string, options: object): void {
    if (!part || typeof part !== "object" || typeof part.build !== "function") {
      throw invalidOption(`part (registering "${String(name)}")`, "a palm part such as PullService", part);
    }
    checkName("name", name);
    if (part.role !== role) {
      throw invalidOption(
        `part (registering "${name}")`,
        `an ${role} part`,
        `${part.partType} (${part.role})`,
      );
    }
    if (this.find(name)) {
      throw new PalmError(
        "PALM_ERR_TEMPLATE_DUPLICATE_PART",
        `A part named "${name}" is already registered in "${this.#server}"`,
      );
    }
    if (part.scheme === "http") checkHttpUrl(`address (part "${name}")`, address);
    else checkEndpoint(`address (part "${name}")`, address);
    const checked = checkOptionsObject(`options (part "${name}")`, options) as PartOptions;
    checkPartOptionKeys(part, name, checked);
    if (checked.block && (role !== "inbound" || !part.blocking)) {
      throw invalidOption(
        `block (part "${name}")`,
        "set only on a blocking inbound part (REP, HTTP)",
        checked.block,
      );
    }
    this.#registrations.push({ part, name, address, role, options: { ...checked } });
  }

  /** Throws unless every route names an outbound part. */
  checkRoutes(): void {
    for (const r of this.#registrations) {
      const route = r.options.route;
      if (route === undefined) continue;
      const target = this.find(route);
      if (target?.role !== "outbound") {
        throw new PalmError(
          "PALM_ERR_TEMPLATE_UNKNOWN_ROUTE",
          `Part "${r.name}" routes to "${route}", which is ${target ? `an ${target.role} part` : "not registered"}; a route must name an outbound part`,
        );
      }
    }
  }

  /** The routing table: each part with its kind, route and blocking flag. */
  describe(): ServerDescription {
    return {
      name: this.#server,
      parts: this.#registrations.map((r) => ({
        name: r.name,
        kind: r.role,
        partType: r.part.partType,
        address: r.address,
        ...(r.options.route ? { route: r.options.route } : {}),
        ...(r.options.block ? { block: true } : {}),
        ...(Array.isArray(r.options.feeds) ? { feeds: [...(r.options.feeds as string[])] } : {}),
      })),
    };
  }
}
