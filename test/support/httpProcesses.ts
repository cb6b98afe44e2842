import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A process a test started: killed by its PID when the test ends, whatever happened. */
export interface TestProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** SIGKILL by PID (now) and wait until it is gone. */
  kill(): Promise<void>;
}

/** `examples/<path>` (or any repo file) as an absolute path. */
export function repoFile(path: string): string {
  return fileURLToPath(new URL(`../../${path}`, import.meta.url));
}

/**
 * Starts `node --import tsx <file> …args` with `env` added, and resolves once its stdout has a line
 * matching `ready` (rejects, with its output, if it exits first or takes longer than `timeoutMs`).
 */
export function startProcess(
  file: string,
  options: { args?: string[]; env?: Record<string, string>; ready: RegExp; timeoutMs?: number },
): Promise<TestProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", repoFile(file), ...(options.args ?? [])], {
    env: { ...process.env, PALM_LOG_LEVEL: "warn", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const handle: TestProcess = {
    pid: child.pid!,
    child,
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid!, "SIGKILL");
        } catch {
          // ESRCH: it exited meanwhile.
        }
        await exited;
      }
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void handle.kill();
      reject(new Error(`${file} did not get ready within ${options.timeoutMs ?? 20_000} ms:\n${output}`));
    }, options.timeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.ready.test(output)) {
        clearTimeout(timer);
        resolve(handle);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
}
