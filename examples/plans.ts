// What `npm run example -- <name>` starts for each example: its servers and workers stage by stage (the
// programs of a stage together, the next stage once all are ready, so a subscriber never joins before
// its publisher is bound), then the program that shows the result.

/** One program of an example: its file under `examples/` and its arguments. */
export type Program = readonly [file: string, ...args: string[]];

/** A line the runner waits for after the client ended, before it stops the servers. */
export interface AfterClient {
  /** The role (`pipeline_echo`, `worker w1`) whose output is watched. */
  readonly role: string;
  /** Text that must occur `count` times in its output (stdout and stderr). */
  readonly text: string;
  readonly count: number;
}

/** How one example runs. */
export interface ExamplePlan {
  /** A sentence: what the example shows. */
  readonly summary: string;
  /** Address groups on free ports (`PALM_PULL`, `PALM_PUB_2`, … see examples/addresses.ts). */
  readonly groups: number;
  /** Other environment variables to put on a free port: an `http://` URL or a bare port number. */
  readonly ports?: Readonly<Record<string, "http" | "port">>;
  /** Servers and workers, stage by stage; each prints `ready` (or `ready`, the stage's marker) once it serves. */
  readonly stages: readonly (readonly Program[])[];
  /** What a server prints once it serves, if not `ready`. */
  readonly ready?: string;
  /** The program that shows the result: it runs to its end and must exit 0. */
  readonly client: Program;
  /** Output to wait for once the client has ended. */
  readonly after?: readonly AfterClient[];
}

const masterAndWorkers = (name: string): readonly Program[] => [
  [`${name}/master.ts`],
  [`${name}/worker.ts`, "w1"],
  [`${name}/worker.ts`, "w2"],
];

/** Every example, by name (its folder under `examples/`). */
export const plans: Readonly<Record<string, ExamplePlan>> = {
  single: {
    summary: "A Server answers one eval.",
    groups: 1,
    stages: [[["single/server.ts"]]],
    client: ["single/client.ts"],
  },
  parallel: {
    summary: "A Master shares ten messages between two workers.",
    groups: 1,
    stages: [masterAndWorkers("parallel")],
    client: ["parallel/client.ts"],
  },
  template: {
    summary: "A Master built by hand from parts with ServerTemplate serves the parallel example's workers.",
    groups: 1,
    stages: [[["template/master.ts"], ["parallel/worker.ts", "w1"], ["parallel/worker.ts", "w2"]]],
    client: ["parallel/client.ts"],
  },
  cache: {
    summary: "Workers read the value the client stored in the master's cache.",
    groups: 1,
    stages: [[["cache/master.ts"], ["cache/worker.ts", "w1"]]],
    client: ["cache/client.ts"],
  },
  scatter: {
    summary: "The master's scatter turns each message into three.",
    groups: 1,
    stages: [masterAndWorkers("scatter")],
    client: ["scatter/client.ts"],
  },
  gather: {
    summary: "The master's gather replaces the thirtieth result.",
    groups: 1,
    stages: [[["gather/master.ts"], ["gather/worker.ts", "w1"]]],
    client: ["gather/client.ts"],
  },
  logging: {
    summary: "Each process logs at its own level.",
    groups: 1,
    stages: [[["logging/master.ts"], ["logging/worker.ts", "w1"]]],
    client: ["logging/client.ts"],
    after: [{ role: "worker w1", text: "Processed 30 messages", count: 1 }],
  },
  error: {
    summary: "A function that throws gives the client a RemoteError; the server keeps serving.",
    groups: 1,
    stages: [[["error/server.ts"]]],
    client: ["error/client.ts"],
  },
  pipeline: {
    summary: "A pipelined Server feeds a Pipeline that answers the client.",
    groups: 2,
    stages: [[["pipeline/server.ts"]], [["pipeline/pipeline.ts"]]],
    client: ["pipeline/client.ts"],
  },
  stream: {
    summary: "handleStream sends even messages to one pipeline and odd ones to the other.",
    groups: 3,
    stages: [[["stream/server.ts"]], [["stream/pipeline_close.ts"], ["stream/pipeline_echo.ts"]]],
    client: ["stream/client.ts"],
    after: [{ role: "pipeline_echo", text: "echo: ", count: 5 }],
  },
  tee: {
    summary: "Both pipelines get every message.",
    groups: 3,
    stages: [[["tee/server.ts"]], [["tee/pipeline_close.ts"], ["tee/pipeline_echo.ts"]]],
    client: ["tee/client.ts"],
    after: [{ role: "pipeline_echo", text: "echo: ", count: 10 }],
  },
  sink: {
    summary: "A Sink gathers the streams of two servers into one.",
    groups: 4,
    stages: [
      [
        ["sink/server.ts", "1"],
        ["sink/server.ts", "2"],
      ],
      [["sink/sink.ts"]],
    ],
    client: ["sink/client.ts"],
  },
  stream_sink: {
    summary: "A stream split into even and odd pipelines is joined again by a Sink.",
    groups: 4,
    stages: [
      [["stream_sink/server.ts"]],
      [["stream_sink/pipeline_even.ts"], ["stream_sink/pipeline_odd.ts"]],
      [["stream_sink/sink.ts"]],
    ],
    client: ["stream_sink/client.ts"],
  },
  server_hub: {
    summary: "A pipelined Server feeds a Hub whose workers answer the client.",
    groups: 2,
    stages: [[["server_hub/server.ts"]], [["server_hub/hub.ts"], ["server_hub/worker.ts", "w1"]]],
    client: ["server_hub/client.ts"],
  },
  master_pipeline: {
    summary: "A pipelined Master's results go through a Pipeline to the client.",
    groups: 2,
    stages: [
      [["master_pipeline/master.ts"], ["master_pipeline/worker.ts", "w1"]],
      [["master_pipeline/pipeline.ts"]],
    ],
    client: ["master_pipeline/client.ts"],
  },
  mux_parallel: {
    summary: "MuxWorkers send two results per message.",
    groups: 1,
    stages: [masterAndWorkers("mux_parallel")],
    client: ["mux_parallel/client.ts"],
  },
  http: {
    summary: "A master hands its messages to an HTTP worker.",
    groups: 1,
    ports: { PALM_HTTP: "http" },
    stages: [[["http/worker.ts"]], [["http/master.ts"]]],
    client: ["http/client.ts"],
  },
  gateway: {
    summary: "HTTP requests become messages for workers; each client gets its own answer.",
    groups: 1,
    ports: { PALM_HTTP: "http" },
    stages: [
      [["gateway/microservice.ts"]],
      [
        ["gateway/worker.ts", "w1"],
        ["gateway/worker.ts", "w2"],
      ],
    ],
    client: ["gateway/client.ts"],
  },
  supervision: {
    summary: "A job keeps every result exactly once while a part is crashed 50 times.",
    groups: 0,
    stages: [],
    client: ["supervision/run.ts"],
  },
  visualisation: {
    summary: "A live master with its inspector, and `palm viz --server` drawing a server.",
    groups: 1,
    ports: { PALM_INSPECT_PORT: "port" },
    ready: "inspector: ",
    stages: [[["visualisation/live.ts"]]],
    client: ["../dist/src/cli.js", "viz", "--server", "examples/visualisation/server.ts"],
    after: [{ role: "live", text: "results", count: 2 }],
  },
};
