import { accessSync, constants } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium, or `CHROMIUM_PATH`. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Why a browser test cannot run here, or false. In CI the browser is installed by .ci/run, so a missing
 * one is a failure there (the launch fails), not a reason to skip.
 */
export function chromiumMissing(): string | false {
  if (process.env.CI) return false;
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return false;
  } catch {
    return `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`;
  }
}

/** Launches headless Chromium with the flags this closed network needs (no background connections). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
