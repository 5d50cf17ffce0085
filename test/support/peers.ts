/**
 * Real peers (Debian's prometheus, node_exporter, pushgateway) started on loopback by the
 * interop suites. A missing binary skips the suite with what to install, except under
 * CI=true, where it is a failure.
 */
import { mkdtempSync } from "node:fs";
import { freePort } from "../../bench/support/free-port.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PeerSpec {
  /** The executable, as Debian installs it. */
  binary: string;
  /** The Debian package that provides it. */
  pkg: string;
}

export const PEERS = {
  prometheus: { binary: "/usr/bin/prometheus", pkg: "prometheus" },
  nodeExporter: { binary: "/usr/bin/prometheus-node-exporter", pkg: "prometheus-node-exporter" },
  pushgateway: { binary: "/usr/bin/prometheus-pushgateway", pkg: "prometheus-pushgateway" },
  victoriaMetrics: { binary: "/usr/bin/victoria-metrics", pkg: "victoria-metrics" },
} satisfies Record<string, PeerSpec>;

/** Null when every peer is installed, else the message saying what is missing. */
export async function missingPeers(...specs: PeerSpec[]): Promise<string | null> {
  const missing: string[] = [];
  for (const s of specs) if (!(await Bun.file(s.binary).exists())) missing.push(s.pkg);
  if (missing.length === 0) return null;
  const msg = `interop peers not installed: apt-get install -y ${missing.join(" ")}`;
  if (process.env.CI === "true") throw new Error(`${msg} (CI=true: a missing peer is a failure)`);
  console.warn(`skipping: ${msg}`);
  return msg;
}

export { freePort };

export interface RunningPeer {
  port: number;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** Starts a peer with `args(port, dir)` and waits until `readyPath` answers 200. */
export async function startPeer(spec: PeerSpec, args: (port: number, dir: string) => string[], readyPath = "/-/ready"): Promise<RunningPeer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "gleaner-peer-"));
  const proc = Bun.spawn([spec.binary, ...args(port, dir)], { cwd: dir, stdout: "ignore", stderr: "pipe" });
  let log = "";
  void (async () => {
    for await (const chunk of proc.stderr) log += new TextDecoder().decode(chunk);
  })();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${spec.binary} exited with ${proc.exitCode}:\n${log}`);
    try {
      if ((await fetch(url + readyPath)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`${spec.binary} did not become ready on ${url}${readyPath}:\n${log}`);
    }
    await Bun.sleep(50);
  }
  return {
    port,
    url,
    dir,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
