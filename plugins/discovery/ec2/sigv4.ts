/**
 * AWS Signature Version 4 (header form), as in AWS's "Create a signed AWS API request":
 * a canonical request (method, URI, sorted query, sorted lower-case headers, signed header
 * list, payload SHA-256), a string to sign over its hash and the credential scope, and an
 * HMAC-SHA256 chain from the secret through date, region and service to the signature.
 *
 * @example
 * const headers = signV4({ method: "POST", url, headers: { "content-type": FORM }, body }, creds, "us-east-1", "ec2", new Date());
 * await fetch(url, { method: "POST", headers: { "content-type": FORM, ...headers }, body });
 */
import { createHash, createHmac } from "node:crypto";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  url: URL;
  /** Headers to sign besides host and x-amz-date (e.g. content-type). */
  headers: Record<string, string>;
  body: string;
}

/** RFC 3986 encoding as SigV4 wants it: only A-Z a-z 0-9 - _ . ~ stay as they are. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sha256Hex(data: string): string {
  return createHash("sha256").update(data, "utf8").digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** `20150830T123600Z` and `20150830` for an instant. */
export function amzDate(now: Date): { stamp: string; day: string } {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return { stamp, day: stamp.slice(0, 8) };
}

/** The key for one day, region and service. */
export function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), "aws4_request");
}

export function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function canonicalUri(url: URL): string {
  const path = url.pathname === "" ? "/" : url.pathname;
  return path.split("/").map((seg) => uriEncode(decodeURIComponent(seg))).join("/");
}

export interface SignatureParts {
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  /** The headers to send: authorization, x-amz-date and (with a session token) x-amz-security-token. */
  headers: Record<string, string>;
}

/** Signs a request; returns the intermediate texts too (tests compare them with AWS's examples). */
export function signV4Parts(req: SignableRequest, creds: AwsCredentials, region: string, service: string, now: Date): SignatureParts {
  const { stamp, day } = amzDate(now);
  const all = new Map<string, string>();
  for (const [k, v] of Object.entries(req.headers)) all.set(k.toLowerCase(), v.trim().replace(/\s+/g, " "));
  all.set("host", req.url.host);
  all.set("x-amz-date", stamp);
  if (creds.sessionToken !== undefined && creds.sessionToken !== "") all.set("x-amz-security-token", creds.sessionToken);
  const names = [...all.keys()].sort();
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri(req.url),
    canonicalQuery(req.url),
    names.map((n) => `${n}:${all.get(n)}\n`).join(""),
    signedHeaders,
    sha256Hex(req.body),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, sha256Hex(canonicalRequest)].join("\n");
  const signature = createHmac("sha256", signingKey(creds.secretAccessKey, day, region, service)).update(stringToSign, "utf8").digest("hex");
  const headers: Record<string, string> = {
    authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    "x-amz-date": stamp,
  };
  const token = all.get("x-amz-security-token");
  if (token !== undefined) headers["x-amz-security-token"] = creds.sessionToken!;
  return { canonicalRequest, stringToSign, signature, headers };
}

/** The headers that sign `req` (authorization, x-amz-date, maybe x-amz-security-token). */
export function signV4(req: SignableRequest, creds: AwsCredentials, region: string, service: string, now: Date): Record<string, string> {
  return signV4Parts(req, creds, region, service, now).headers;
}
