// The addresses the examples use: pylm's defaults, unless an environment variable gives another.

/** The addresses of one server in an example (not every server uses all five). */
export interface ExampleAddresses {
  /** Where clients push messages (`PALM_PULL`). */
  readonly pull: string;
  /** Where results are published (`PALM_PUB`). */
  readonly pub: string;
  /** Where workers push results (`PALM_WORKER_PULL`). */
  readonly workerPull: string;
  /** Where workers pull work (`PALM_WORKER_PUSH`). */
  readonly workerPush: string;
  /** The server's cache service (`PALM_DB`). */
  readonly db: string;
}

const LOOPBACK = "tcp://127.0.0.1";

function read(variable: string, port: number): string {
  return process.env[variable] || `${LOOPBACK}:${port}`;
}

/**
 * The addresses of the `group`-th server of an example. Group 1 (the server clients talk to) reads
 * `PALM_PULL`, `PALM_PUB`, `PALM_WORKER_PULL`, `PALM_WORKER_PUSH`, `PALM_DB` and defaults to pylm's
 * 5555–5559. Group n ≥ 2 (the next stages) reads the same names with `_<n>` appended (`PALM_PUB_2`) and
 * defaults to pylm's next-stage ports: db 55n0, pub 55n1 (5560/5561, 5570/5571, 5580/5581), then pull,
 * worker pull and worker push on 55n2–55n4.
 */
export function addresses(group = 1): ExampleAddresses {
  if (group === 1) {
    return {
      pull: read("PALM_PULL", 5555),
      pub: read("PALM_PUB", 5556),
      workerPull: read("PALM_WORKER_PULL", 5557),
      workerPush: read("PALM_WORKER_PUSH", 5558),
      db: read("PALM_DB", 5559),
    };
  }
  const base = 5550 + 10 * (group - 1);
  return {
    db: read(`PALM_DB_${group}`, base),
    pub: read(`PALM_PUB_${group}`, base + 1),
    pull: read(`PALM_PULL_${group}`, base + 2),
    workerPull: read(`PALM_WORKER_PULL_${group}`, base + 3),
    workerPush: read(`PALM_WORKER_PUSH_${group}`, base + 4),
  };
}
