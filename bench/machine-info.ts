import { createRequire } from "node:module";
import { arch, cpus, loadavg, platform, release, totalmem } from "node:os";

/** The machine a bench ran on, for its report. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly totalMemMb: number;
  readonly platform: string;
  readonly release: string;
  readonly arch: string;
  readonly node: string;
  readonly zeromq: string;
  readonly xstate: string;
  /** The 1-minute load average when the bench started (other work on the machine skews the figures). */
  readonly loadAvg1: number;
}

function versionOf(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${name}/package.json`) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cpus: list.length,
    totalMemMb: Math.round(totalmem() / (1024 * 1024)),
    platform: platform(),
    release: release(),
    arch: arch(),
    node: process.version,
    zeromq: versionOf("zeromq"),
    xstate: versionOf("xstate"),
    loadAvg1: loadavg()[0] ?? 0,
  };
}
