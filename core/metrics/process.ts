/**
 * Process metrics with the names every Prometheus dashboard knows (`process_*`), read from
 * /proc on Linux and from the runtime elsewhere.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Registry } from "./registry.ts";

const PAGE_SIZE = 4096;

function readProc(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** Fields of /proc/self/stat after the parenthesised command name. */
function statFields(): string[] | null {
  const stat = readProc("/proc/self/stat");
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

export function registerProcessMetrics(registry: Registry, startTime = Date.now() - performance.now()): void {
  registry.collector("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter", () => {
    const u = process.cpuUsage();
    return [{ value: (u.user + u.system) / 1e6 }];
  });
  registry.collector("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", () => {
    const f = statFields();
    return [{ value: f ? Number(f[21]) * PAGE_SIZE : process.memoryUsage().rss }];
  });
  registry.collector("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", () => {
    const f = statFields();
    return f ? [{ value: Number(f[20]) }] : [];
  });
  registry.collector("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge", () => [
    { value: Math.round(startTime) / 1000 },
  ]);
  registry.collector("process_open_fds", "Number of open file descriptors.", "gauge", () => {
    try {
      return [{ value: readdirSync("/proc/self/fd").length }];
    } catch {
      return [];
    }
  });
  registry.collector("process_max_fds", "Maximum number of open file descriptors.", "gauge", () => {
    const m = readProc("/proc/self/limits")?.match(/^Max open files\s+(\d+)/m);
    return m ? [{ value: Number(m[1]) }] : [];
  });
  registry.collector("process_heap_bytes", "JavaScript heap in use, in bytes.", "gauge", () => [{ value: process.memoryUsage().heapUsed }]);
  registry.collector("gleaner_memory_bytes", "Memory by area: the JavaScript heap in use and reserved, and the ArrayBuffers outside it (typed arrays, WebAssembly memory).", "gauge", () => {
    const m = process.memoryUsage();
    return [
      { labels: { area: "js_heap_used" }, value: m.heapUsed },
      { labels: { area: "js_heap_total" }, value: m.heapTotal },
      { labels: { area: "array_buffers" }, value: m.arrayBuffers },
    ];
  });
}
