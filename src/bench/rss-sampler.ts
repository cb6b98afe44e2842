import { report } from "./bench-child.js";

/**
 * Reports this process's resident set size every `intervalMs` as `{"type":"rss","atMs","mb"}` lines (for the
 * soak's growth slope); 0 samples nothing. Returns the function that stops sampling.
 */
export function sampleRss(intervalMs: number): () => void {
  if (intervalMs <= 0) return () => undefined;
  const start = performance.now();
  const timer = setInterval(() => {
    report({ type: "rss", atMs: performance.now() - start, mb: process.memoryUsage.rss() / (1024 * 1024) });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
