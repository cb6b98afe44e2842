import { Client } from "../../actors/client.js";
import type { ClientOptions } from "../../actors/clientOptions.js";
import type { UserFunction } from "../../actors/functionRunner.js";
import { Master, type MasterOptions } from "../../actors/servers/master.js";
import { Worker, type WorkerOptions } from "../../actors/worker.js";
import type { LogLevel } from "../logger.js";
import type { SupervisionOptions } from "../supervisionOptions.js";
import { freeEndpoints } from "./ports.js";

/** The five addresses of a master started by `startMaster` (free loopback ports). */
export interface MasterAddresses {
  readonly pullAddress: string;
  readonly pubAddress: string;
  readonly workerPullAddress: string;
  readonly workerPushAddress: string;
  readonly dbAddress: string;
}

/** Options of `startMaster`. */
export interface StartMasterOptions {
  /** How many in-process workers to start. @default 2 */
  workers?: number;
  /** The workers' functions. @default { echo: (payload) => payload } */
  functions?: Record<string, UserFunction>;
  /** The master's name (what clients call, as `name.fn`). @default "server" */
  name?: string;
  /** The master's supervision options. */
  supervision?: SupervisionOptions;
  /** Log level of the master, the workers and the client. @default "silent" */
  logLevel?: LogLevel;
  /** Further master options (hooks, codec, liveness settings…); the addresses are chosen here. */
  master?: Partial<Omit<MasterOptions, keyof MasterAddresses | "name">>;
  /** Further options for every worker. */
  worker?: Partial<Omit<WorkerOptions, "name" | "dbAddress" | "functions">>;
  /** Start a client too (with these options, if an object). @default true */
  client?: boolean | Partial<Omit<ClientOptions, "serverName" | "dbAddress">>;
}

/** A master, its workers and a client, all in this process, started by `startMaster`. */
export interface MasterCluster {
  readonly master: Master;
  readonly workers: Worker[];
  /** The client, unless `client: false` was given. */
  readonly client: Client;
  readonly addresses: MasterAddresses;
  /** Stops the client, the workers and the master, in that order. Idempotent. */
  stop(): Promise<void>;
}

const echo: UserFunction = (payload) => payload;

/**
 * Starts a `Master` on free loopback ports with `workers` in-process `Worker`s and a `Client`, for restart
 * tests. `stop()` stops everything; if starting fails, what started is stopped before the error is thrown.
 *
 * @example
 * const cluster = await startMaster({ workers: 2, supervision: { maxRestarts: 100 } });
 * try {
 *   cluster.master.crash("WorkerPush");
 *   const one = await cluster.client.eval("server.echo", Buffer.from("hi"));
 * } finally {
 *   await cluster.stop();
 * }
 */
export async function startMaster(options: StartMasterOptions = {}): Promise<MasterCluster> {
  const name = options.name ?? "server";
  const logLevel = options.logLevel ?? "silent";
  const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
  const addresses: MasterAddresses = {
    pullAddress: pullAddress!,
    pubAddress: pubAddress!,
    workerPullAddress: workerPullAddress!,
    workerPushAddress: workerPushAddress!,
    dbAddress: dbAddress!,
  };
  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      let first: unknown;
      for (const close of stops.reverse()) {
        try {
          await close();
        } catch (error) {
          first ??= error;
        }
      }
      if (first !== undefined) throw first;
    })();
    return stopping;
  };
  try {
    const master = new Master({
      ...options.master,
      ...addresses,
      name,
      logLevel: options.master?.logLevel ?? logLevel,
      supervision: options.supervision ?? options.master?.supervision,
    });
    stops.push(() => master.stop());
    await master.start();
    const workers: Worker[] = [];
    for (let i = 0; i < (options.workers ?? 2); i++) {
      const worker = new Worker({
        logLevel,
        ...options.worker,
        name: `worker${i + 1}`,
        dbAddress: addresses.dbAddress,
        functions: options.functions ?? { echo },
      });
      stops.push(() => worker.stop());
      workers.push(worker);
      await worker.start();
    }
    let client: Client | undefined;
    if (options.client !== false) {
      const extra = typeof options.client === "object" ? options.client : {};
      client = new Client({
        logLevel,
        codec: options.master?.codec,
        ...extra,
        serverName: name,
        dbAddress: addresses.dbAddress,
      });
      const started = client;
      stops.push(() => started.stop());
      await client.start();
    }
    return { master, workers, client: client as Client, addresses, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
