/**
 * Loopback servers for the HTTP client tests, with raw control of the wire: they record each
 * request's header lines exactly as sent, and let a test answer with any bytes, stall, or
 * hang up.
 */
import * as net from "node:net";
import type { HttpClientConfig } from "../../config/types.ts";

export interface RawRequest {
  method: string;
  target: string;
  /** Header lines in the order and case sent. */
  lines: Array<[string, string]>;
  body: Buffer;
  /** Every value of a header (case-insensitive name), one per line. */
  all(name: string): string[];
  get(name: string): string | undefined;
}

export type Responder = (req: RawRequest, socket: net.Socket) => void;

export interface RawServer {
  port: number;
  url(path?: string): string;
  requests: RawRequest[];
  close(): Promise<void>;
}

function parseHead(head: string, body: Buffer): RawRequest {
  const [start, ...rest] = head.split("\r\n");
  const [method = "", target = ""] = (start ?? "").split(" ");
  const lines = rest.map((l): [string, string] => {
    const i = l.indexOf(":");
    return [l.slice(0, i), l.slice(i + 1).trim()];
  });
  const all = (name: string) => lines.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  return { method, target, lines, body, all, get: (name) => all(name)[0] };
}

/** A plain TCP server that speaks just enough HTTP/1.1 to record requests. */
export async function startRawServer(respond: Responder): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.subarray(0, end).toString("latin1");
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const req = parseHead(head, Buffer.from(buf.subarray(end + 4, end + 4 + length)));
        buf = buf.subarray(end + 4 + length);
        requests.push(req);
        respond(req, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (path = "/metrics") => `http://127.0.0.1:${port}${path}`,
    requests,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes a complete response with Content-Length (unless given) and keeps the connection. */
export function reply(socket: net.Socket, status: string, headers: Record<string, string>, body: Uint8Array | string = ""): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const hasLength = Object.keys(headers).some((k) => k.toLowerCase() === "content-length" || k.toLowerCase() === "transfer-encoding");
  const head = [`HTTP/1.1 ${status}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (!hasLength) head.push(`Content-Length: ${bytes.length}`);
  socket.write(head.join("\r\n") + "\r\n\r\n");
  if (bytes.length > 0) socket.write(bytes);
}

/** Writes `body` as chunked transfer encoding, in pieces of `size` bytes. */
export function replyChunked(socket: net.Socket, headers: Record<string, string>, body: Uint8Array, size: number): void {
  const head = ["HTTP/1.1 200 OK", "Transfer-Encoding: chunked", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.write(head.join("\r\n") + "\r\n\r\n");
  for (let off = 0; off < body.length; off += size) {
    const piece = body.subarray(off, off + size);
    socket.write(`${piece.length.toString(16)}\r\n`);
    socket.write(piece);
    socket.write("\r\n");
  }
  socket.write("0\r\n\r\n");
}

/** A resolved HTTP client config with the loader's defaults, plus overrides. */
export function httpConfig(over: Partial<HttpClientConfig> = {}): HttpClientConfig {
  return {
    proxy_from_environment: false,
    proxy_connect_header: {},
    tls_config: { insecure_skip_verify: false, min_version: "TLS12" },
    follow_redirects: true,
    enable_http2: true,
    http_headers: {},
    ...over,
  };
}

export interface TestProxy {
  url: string;
  /** Each request head the proxy received: the request line and header lines as sent. */
  heads: string[];
  close(): Promise<void>;
}

/** A forward proxy: absolute-form requests for http targets, CONNECT tunnels for https. */
export async function startProxy(): Promise<TestProxy> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    return s;
  };
  const server = net.createServer((client) => {
    track(client);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onData);
      const head = buf.subarray(0, end).toString("latin1");
      heads.push(head);
      const [method = "", target = ""] = head.split(" ");
      if (method === "CONNECT") {
        const [host = "", port = ""] = target.split(":");
        const upstream = track(net.connect(Number(port), host, () => {
          client.write("HTTP/1.1 200 Connection established\r\n\r\n");
          const rest = buf.subarray(end + 4);
          if (rest.length > 0) upstream.write(rest);
          client.pipe(upstream).pipe(client);
        }));
        return;
      }
      const u = new URL(target);
      const upstream = track(net.connect(Number(u.port || 80), u.hostname, () => {
        upstream.write(buf);
        client.pipe(upstream).pipe(client);
      }));
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    heads,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
