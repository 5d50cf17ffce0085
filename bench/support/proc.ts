/**
 * Process and host figures from /proc, for the benchmarks: CPU seconds (utime + stime) and
 * resident bytes of a process or of a whole process tree, the peak resident size the kernel
 * kept (VmHWM), and the busy CPU seconds of the whole host.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Linux's USER_HZ, the unit of the times in /proc/<pid>/stat and /proc/stat. */
const TICKS_PER_SECOND = 100;
const PAGE = 4096;

/** CPU seconds (utime + stime) and resident bytes of a process, from /proc. */
export function procStat(pid: number | "self"): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { cpu: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND, rss: Number(f[21]) * PAGE };
}

/** The peak resident set size of a process (VmHWM), in bytes; 0 once it is gone. */
export function peakRss(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A process and all its descendants, from the kernel's per-thread children lists. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, "utf8").split(" ")) if (c.trim() !== "") queue.push(Number(c));
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

export interface TreeStat {
  /** utime + stime of every live process of the tree, in seconds. */
  cpu: number;
  rss: number;
  /** Sum of the processes' own peaks (an upper bound of the tree's peak). */
  peakRss: number;
}

/** CPU, RSS and peak RSS of a process tree; processes that end meanwhile are skipped. */
export function treeStat(pid: number): TreeStat {
  const s: TreeStat = { cpu: 0, rss: 0, peakRss: 0 };
  for (const p of processTree(pid)) {
    try {
      const one = procStat(p);
      s.cpu += one.cpu;
      s.rss += one.rss;
      s.peakRss += peakRss(p);
    } catch {
      // gone
    }
  }
  return s;
}

/** Busy (non-idle, non-iowait) CPU seconds of the whole host since boot, and the CPU count. */
export function hostCpu(): { busy: number; cpus: number } {
  const text = readFileSync("/proc/stat", "utf8");
  const f = text.slice(0, text.indexOf("\n")).trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const cpus = text.split("\n").filter((l) => /^cpu\d+ /.test(l)).length;
  return { busy: (total - idle) / TICKS_PER_SECOND, cpus };
}

/** Bytes of the files under a directory (apparent sizes, `du -sb`). */
export function diskUsage(dir: string): number {
  const r = Bun.spawnSync(["du", "-sb", dir], { stderr: "ignore" });
  return Number(r.stdout.toString().split("\t")[0]) || 0;
}
