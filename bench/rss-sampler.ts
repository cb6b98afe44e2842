import { report } from "./bench-child.js";

const MB = 1024 * 1024;

/**
 * Reports this process's memory every `intervalMs` as `{"type":"rss","atMs","mb","heapMb","externalMb"}`
 * lines (for the soak's growth slope); 0 samples nothing. Returns the function that stops sampling.
 */
export function sampleRss(intervalMs: number): () => void {
  if (intervalMs <= 0) return () => undefined;
  const start = performance.now();
  const timer = setInterval(() => {
    const { rss, heapUsed, external } = process.memoryUsage();
    report({
      type: "rss",
      atMs: performance.now() - start,
      mb: rss / MB,
      heapMb: heapUsed / MB,
      externalMb: external / MB,
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
