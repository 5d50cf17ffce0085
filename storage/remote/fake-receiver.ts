/**
 * A remote-write receiver on loopback that tests control: it decodes every request with the
 * same decoder as /api/v1/write, records what it stored per series, and answers with
 * whatever the test scripts (500s, 429 + Retry-After, 400, slowness, or being down).
 */
import * as snappy from "snappyjs";
import { decodeWriteRequest } from "./decode-write-request.ts";

export interface ReceivedRequest {
  headers: Headers;
  /** Body bytes as sent (compressed). */
  bytes: number;
  /** The body, decompressed. */
  raw: Uint8Array;
  samples: number;
  exemplars: number;
  status: number;
}

/** Per request: the status (and headers) to answer, and how long to wait first. */
export type Script = (n: number, req: ReceivedRequest) => { status: number; headers?: Record<string, string>; delayMs?: number } | undefined;

export class FakeReceiver {
  #server: ReturnType<typeof Bun.serve> | null = null;
  port = 0;
  /** Samples stored, by series (labels as `name=value,...`): [t, v] with v "stale" for StaleNaN. */
  readonly series = new Map<string, Array<[number, number | "stale"]>>();
  /** Exemplars stored, by series (as in `series`): [timestamp, value, exemplar labels as `name=value,...`]. */
  readonly exemplars = new Map<string, Array<[number, number, string]>>();
  readonly requests: ReceivedRequest[] = [];
  /** Metadata entries received (type as the proto enum number). */
  readonly metadata: Array<{ type: number; metric: string; help: string; unit: string }> = [];
  script: Script = () => undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}/api/v1/write`;
  }

  /** Exemplars stored over all series. */
  get storedExemplars(): number {
    let n = 0;
    for (const s of this.exemplars.values()) n += s.length;
    return n;
  }

  /** Samples stored over all series. */
  get stored(): number {
    let n = 0;
    for (const s of this.series.values()) n += s.length;
    return n;
  }

  start(port = 0): this {
    this.#server = Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: async (req) => {
        const body = new Uint8Array(await req.arrayBuffer());
        const raw = snappy.uncompress(body);
        const d = decodeWriteRequest(raw);
        const rec: ReceivedRequest = { headers: req.headers, bytes: body.length, raw, samples: d.count, exemplars: d.exemplars.length, status: 204 };
        const n = this.requests.length;
        this.requests.push(rec);
        const answer = this.script(n, rec);
        if (answer?.delayMs) await Bun.sleep(answer.delayMs);
        const status = answer?.status ?? 204;
        rec.status = status;
        if (status >= 200 && status < 300) {
          this.metadata.push(...d.metadata);
          for (const s of d.series) {
            const pairs: string[] = [];
            const labels = s.labels!; // eager decoding: never null
            for (let i = 0; i < labels.length; i += 2) pairs.push(`${labels[i]}=${labels[i + 1]}`);
            const key = pairs.join(",");
            const list = this.series.get(key) ?? [];
            for (let i = s.start; i < s.end; i++) list.push([d.ts[i]!, d.stale[i] === 1 ? "stale" : d.values[i]!]);
            if (s.end > s.start) this.series.set(key, list);
            if (s.exEnd > s.exStart) {
              const ex = this.exemplars.get(key) ?? [];
              for (let i = s.exStart; i < s.exEnd; i++) {
                const e = d.exemplars[i]!;
                const el: string[] = [];
                for (let j = 0; j < e.labels.length; j += 2) el.push(`${e.labels[j]}=${e.labels[j + 1]}`);
                ex.push([e.timestamp, e.value, el.join(",")]);
              }
              this.exemplars.set(key, ex);
            }
          }
        }
        return new Response(status === 204 ? null : `scripted ${status}`, { status, headers: answer?.headers ?? {} });
      },
    });
    this.port = this.#server.port ?? 0;
    return this;
  }

  /** Stops listening (the sender sees connection refused) until start(port) again. */
  async stop(): Promise<void> {
    await this.#server?.stop(true);
    this.#server = null;
  }
}
