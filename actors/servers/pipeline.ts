import { checkName } from "../../src/validate.js";
import { SubConnection } from "../connections/subConnection.js";
import { COMMON_BINDS, PIPELINE_KEYS } from "./optionKeys.js";
import { checkServerOptions } from "./palmServer.js";
import { checkOptionalBoolean, InProcessServer, type InProcessServerOptions } from "./server.js";

/** Options of a `Pipeline` (pylm's `Pipeline(name, db_address, sub_address, pub_address, previous, to_client)`). */
export interface PipelineOptions extends InProcessServerOptions {
  /** The previous server's PUB (SUB, connected). */
  subAddress: string;
  /** Where results are published (PUB, bound). */
  pubAddress: string;
  /** The topic to subscribe to: the previous server's name, or a topic its `handleStream` publishes under. */
  previous: string;
  /**
   * Publish results to the client that started the stream (topic = client id); when false, publish under
   * this server's name with the stage moved on by one, for a next stage. @default true
   */
  toClient?: boolean;
}

/** The addresses a Pipeline checks and publishes in its cache. */
const PIPELINE_ADDRESSES = ["subAddress", "pubAddress", "dbAddress"] as const;

/**
 * A server fed by another server's publisher (pylm's `Pipeline`): it subscribes to the topic `previous`
 * at `subAddress`, runs the function each message names at its stage, and publishes the result to the
 * client (`toClient`, the default) or to a next stage. A function that returns nothing publishes nothing,
 * so a pipeline can also filter or just watch the stream.
 *
 * @example
 * const pipeline = new Pipeline({ name: "my_pipeline", dbAddress, subAddress, pubAddress, previous: "my_server",
 *   functions: { foo: (payload) => Buffer.concat([Buffer.from("and I pipelined "), payload]) } });
 * await pipeline.start();
 */
export class Pipeline extends InProcessServer {
  constructor(options: PipelineOptions) {
    const checked = checkServerOptions(options, {
      owner: "Pipeline",
      known: PIPELINE_KEYS,
      addresses: PIPELINE_ADDRESSES,
      binds: ["pubAddress", ...COMMON_BINDS],
    });
    checkName("previous", checked.previous);
    const toClient = checkOptionalBoolean("toClient", checked.toClient) ?? true;
    super(checked, { base: Pipeline.prototype, pipelined: !toClient, dropEmpty: true });
    this.template.registerInbound(SubConnection, "Sub", checked.subAddress, {
      ...this.runOptions(),
      previous: checked.previous,
    });
    this.registerPublisher(checked.pubAddress);
    this.presetAddresses(checked.cache, checked, PIPELINE_ADDRESSES);
  }
}
