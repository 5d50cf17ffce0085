import { readFileSync } from "node:fs";

/** CPU seconds (utime + stime) and resident bytes of a process, from /proc. */
export function procStat(pid: number | "self"): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { cpu: (Number(f[11]) + Number(f[12])) / 100, rss: Number(f[21]) * 4096 };
}
