import { invalidOption, PalmError } from "../../src/errors.js";
import {
  checkDistinctBinds,
  checkEndpoint,
  checkName,
  checkOptionKeys,
  checkOptionsObject,
} from "../../src/validate.js";
import { SubConnection } from "../connections/subConnection.js";
import { COMMON_BINDS, SINK_KEYS } from "./optionKeys.js";
import { checkOptionalBoolean, InProcessServer, type InProcessServerOptions } from "./server.js";

/** Options of a `Sink` (pylm's `Sink(name, db_address, sub_addresses, pub_address, previous, to_client)`). */
export interface SinkOptions extends InProcessServerOptions {
  /** The PUBs of the servers it gathers from (one SUB connected to each). */
  subAddresses: string[];
  /** Where results are published (PUB, bound). */
  pubAddress: string;
  /** The topic to subscribe to at each address, in the same order as `subAddresses` (the two are zipped). */
  previous: string[];
  /** Publish results to the client (topic = client id); when false, to a next stage. @default true */
  toClient?: boolean;
}

function checkList(option: string, value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidOption(option, "a non-empty array", value);
  return value;
}

/**
 * A server that gathers several streams into one (pylm's `Sink`): one SUB per entry of `subAddresses`,
 * subscribed to the matching entry of `previous`; every message is run like a `Pipeline` runs it (a
 * function that returns nothing publishes nothing) and published to the client or a next stage.
 *
 * @example
 * const sink = new Sink({ name: "my_sink", dbAddress, pubAddress, subAddresses: [evenPub, oddPub],
 *   previous: ["my_pipeline", "my_pipeline"], functions: { foo: (payload) => payload } });
 * await sink.start();
 */
export class Sink extends InProcessServer {
  constructor(options: SinkOptions) {
    const checked = checkOptionsObject("options", options) as unknown as SinkOptions;
    checkOptionKeys("Sink", checked, SINK_KEYS);
    const subAddresses = checkList("subAddresses", checked.subAddresses);
    const previous = checkList("previous", checked.previous);
    for (const [i, address] of subAddresses.entries()) checkEndpoint(`subAddresses[${i}]`, address);
    for (const [i, topic] of previous.entries()) checkName(`previous[${i}]`, topic);
    if (previous.length !== subAddresses.length) {
      throw new PalmError(
        "PALM_ERR_OPTION_INVALID",
        `Expected \`previous\` to have as many entries as \`subAddresses\` (${subAddresses.length}; the two are zipped), got ${previous.length}`,
      );
    }
    checkEndpoint("pubAddress", checked.pubAddress);
    checkDistinctBinds(checked, ["pubAddress", ...COMMON_BINDS]);
    const toClient = checkOptionalBoolean("toClient", checked.toClient) ?? true;
    super(checked, { base: Sink.prototype, pipelined: !toClient, dropEmpty: true });
    for (let i = 0; i < subAddresses.length; i++) {
      this.template.registerInbound(SubConnection, `Sub${i}`, subAddresses[i] as string, {
        ...this.runOptions(),
        previous: previous[i] as string,
      });
    }
    this.registerPublisher(checked.pubAddress);
    const subAddress = (subAddresses as string[]).join(" ");
    this.presetAddresses(checked.cache, { ...checked, subAddress }, [
      "subAddress",
      "pubAddress",
      "dbAddress",
    ]);
  }
}
