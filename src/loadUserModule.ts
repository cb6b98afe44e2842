// How the CLI loads a user's server module: TypeScript too, through the project's own tsx.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const TYPESCRIPT = /\.[cm]?tsx?$/;

/** Whether loading `error` failed because Node cannot run the file's extension by itself. */
function isUnknownExtension(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ERR_UNKNOWN_FILE_EXTENSION";
}

/** The URL of tsx's ESM API (`tsx/esm/api`) as the user's project resolves it from `base`, if it has tsx. */
function tsxApi(base: string): string | undefined {
  let manifest: string;
  try {
    manifest = createRequire(join(base, "noop.js")).resolve("tsx/package.json");
  } catch {
    return undefined;
  }
  type Target = string | { import?: Target; default?: Target };
  const exports = (JSON.parse(readFileSync(manifest, "utf8")) as { exports?: Record<string, Target> })
    .exports;
  let target = exports?.["./esm/api"];
  while (target && typeof target === "object") target = target.import ?? target.default;
  return target ? pathToFileURL(join(dirname(manifest), target)).href : undefined;
}

/**
 * Registers tsx's loader if the user's project has tsx (looked up from the module's folder, then from the
 * working directory); resolves with whether it did.
 */
async function registerTsx(file: string): Promise<boolean> {
  for (const base of [dirname(file), process.cwd()]) {
    const api = tsxApi(base);
    if (!api) continue;
    ((await import(api)) as { register(): unknown }).register();
    return true;
  }
  return false;
}

/**
 * Imports the module at `path` (relative to the working directory). A `.ts` file is loaded by tsx when
 * Node cannot run it on its own (no loader given, no type stripping); without tsx in the user's project
 * the error says what to install.
 */
export async function loadUserModule(path: string): Promise<Record<string, unknown>> {
  const file = resolve(path);
  if (!existsSync(file)) throw new UserModuleError(`cannot find ${path} (looked for ${file})`);
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (!TYPESCRIPT.test(file) || !isUnknownExtension(error)) throw error;
    if (!(await registerTsx(file))) {
      throw new TypeError(
        `cannot load ${path}: Node does not run TypeScript files by itself. Install tsx in your project (npm install --save-dev tsx), or run node with --experimental-strip-types (Node 22.6 or later), or point at the compiled .js file`,
        { cause: error },
      );
    }
    // A new URL: Node remembers the failed import of the first one.
    return (await import(`${url}?palm-tsx`)) as Record<string, unknown>;
  }
}

/** A user module that could not be loaded: the message says why, with its own stack if it threw one. */
export class UserModuleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UserModuleError";
  }
}

/**
 * Imports a user module as `loadUserModule` does; whatever its import throws (any value: an error, a
 * string, `undefined`) becomes a `UserModuleError` naming the file, the stack included for the user's
 * own code.
 */
export async function importUserModule(path: string): Promise<Record<string, unknown>> {
  try {
    return await loadUserModule(path);
  } catch (error) {
    if (error instanceof UserModuleError || error instanceof TypeError) throw error;
    const what = error instanceof Error ? (error.stack ?? String(error)) : `it threw ${String(error)}`;
    throw new UserModuleError(`importing ${path} failed: ${what}`, { cause: error });
  }
}
