/**
 * The AWS pieces EC2 discovery needs: credentials (static, environment, shared credentials
 * file, then STS AssumeRole when role_arn is set) and one signed query-protocol call
 * (form-encoded POST, SigV4, XML answer, AWS error codes).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { HttpClient } from "../../../core/scrape/http/http-client.ts";
import { signV4, uriEncode, type AwsCredentials } from "./sigv4.ts";
import { parseXml, textAt, child, type XmlElement } from "./xml.ts";

/** An error answer from an AWS API, with its code (AuthFailure, UnauthorizedOperation, ...). */
export class AwsError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(`${code}: ${message} (HTTP ${status})`);
  }
}

const FORM = "application/x-www-form-urlencoded; charset=utf-8";

export interface QueryOptions {
  http: HttpClient;
  endpoint: URL;
  region: string;
  service: string;
  credentials: AwsCredentials;
  now: Date;
  signal: AbortSignal;
  timeoutMs: number;
}

/** The form body of a query-protocol call, in the order given (Action and Version first). */
export function queryBody(params: ReadonlyArray<readonly [string, string]>): string {
  return params.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join("&");
}

/** One signed query-protocol call; returns the answer's root element or throws (AwsError for AWS's own errors). */
export async function awsQuery(params: ReadonlyArray<readonly [string, string]>, o: QueryOptions): Promise<XmlElement> {
  const body = queryBody(params);
  const signed = signV4({ method: "POST", url: o.endpoint, headers: { "content-type": FORM }, body }, o.credentials, o.region, o.service, o.now);
  const signal = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
  const res = await o.http.request(o.endpoint, { method: "POST", headers: { "content-type": FORM, ...signed }, body, signal, timeoutMs: o.timeoutMs });
  const text = await res.text();
  if (res.status !== 200) {
    let root: XmlElement | undefined;
    try {
      root = parseXml(text);
    } catch {
      // not an XML error document
    }
    // EC2: <Response><Errors><Error>; STS: <ErrorResponse><Error>.
    const err = child(child(root, "Errors"), "Error") ?? child(root, "Error");
    const code = textAt(err, "Code");
    if (code !== undefined) throw new AwsError(code, textAt(err, "Message") ?? "", res.status);
    throw new Error(`unexpected HTTP status ${res.status} from ${o.endpoint.href}: ${text.trim().slice(0, 200)}`);
  }
  try {
    return parseXml(text);
  } catch (err) {
    throw new SyntaxError(`cannot parse the answer from ${o.endpoint.href}: ${(err as Error).message}`);
  }
}

/** The keys of one `[section]` of an INI file (AWS's shared credentials and config files). */
export function iniSection(text: string, section: string): Record<string, string> {
  let current = "";
  const values: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const s = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (s !== null) {
      current = s[1]!.replace(/\s+/g, " ");
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv !== null && current === section) values[kv[1]!.toLowerCase()] = kv[2]!;
  }
  return values;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** The profile in use: the configured one, AWS_PROFILE, or "default". */
export function profileName(configured: string, env: Record<string, string | undefined>): string {
  return configured !== "" ? configured : (env.AWS_PROFILE ?? "") !== "" ? env.AWS_PROFILE! : "default";
}

/** The region when none is configured: AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region` in the shared config file. */
export function defaultRegion(profile: string, env: Record<string, string | undefined>): string {
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const file = (env.AWS_CONFIG_FILE ?? "") !== "" ? env.AWS_CONFIG_FILE! : join(env.HOME ?? homedir(), ".aws", "config");
  const text = readOrEmpty(file);
  return iniSection(text, profile === "default" ? "default" : `profile ${profile}`).region ?? "";
}

/** The `[profile]` section of an AWS shared credentials file. */
export function credentialsFromIni(text: string, profile: string): AwsCredentials | null {
  const values = iniSection(text, profile);
  const id = values.aws_access_key_id;
  const secret = values.aws_secret_access_key;
  if (id === undefined || secret === undefined || id === "" || secret === "") return null;
  const token = values.aws_session_token;
  return token !== undefined && token !== "" ? { accessKeyId: id, secretAccessKey: secret, sessionToken: token } : { accessKeyId: id, secretAccessKey: secret };
}

export interface CredentialSources {
  accessKey: string;
  secretKey: string;
  profile: string;
  env: Record<string, string | undefined>;
}

/**
 * Base credentials in the SDK's order: the configured keys, then AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), then the profile (profile, AWS_PROFILE or
 * "default") of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials).
 */
export function baseCredentials(s: CredentialSources): AwsCredentials {
  if (s.accessKey !== "" && s.secretKey !== "") return { accessKeyId: s.accessKey, secretAccessKey: s.secretKey };
  const { env } = s;
  if ((env.AWS_ACCESS_KEY_ID ?? "") !== "" && (env.AWS_SECRET_ACCESS_KEY ?? "") !== "") {
    const c: AwsCredentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! };
    if ((env.AWS_SESSION_TOKEN ?? "") !== "") c.sessionToken = env.AWS_SESSION_TOKEN!;
    return c;
  }
  const profile = profileName(s.profile, env);
  const file = (env.AWS_SHARED_CREDENTIALS_FILE ?? "") !== "" ? env.AWS_SHARED_CREDENTIALS_FILE! : join(env.HOME ?? homedir(), ".aws", "credentials");
  const c = credentialsFromIni(readOrEmpty(file), profile);
  if (c !== null) return c;
  throw new Error(`no AWS credentials: set access_key and secret_key, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile "${profile}" in ${file}`);
}

export interface AssumedRole {
  credentials: AwsCredentials;
  /** Epoch ms. */
  expires: number;
}

/** STS AssumeRole with the base credentials (the endpoint is AWS_ENDPOINT_URL_STS or sts.<region>.amazonaws.com). */
export async function assumeRole(roleArn: string, externalId: string, sessionName: string, o: QueryOptions): Promise<AssumedRole> {
  const params: Array<[string, string]> = [["Action", "AssumeRole"], ["Version", "2011-06-15"], ["DurationSeconds", "900"], ["RoleArn", roleArn], ["RoleSessionName", sessionName]];
  if (externalId !== "") params.push(["ExternalId", externalId]);
  const root = await awsQuery(params, { ...o, service: "sts" });
  const c = child(child(root, "AssumeRoleResult"), "Credentials");
  const id = textAt(c, "AccessKeyId");
  const secret = textAt(c, "SecretAccessKey");
  const token = textAt(c, "SessionToken");
  const expiration = Date.parse(textAt(c, "Expiration") ?? "");
  if (id === undefined || secret === undefined || token === undefined || Number.isNaN(expiration)) throw new TypeError(`AssumeRole ${roleArn}: the answer has no complete Credentials element`);
  return { credentials: { accessKeyId: id, secretAccessKey: secret, sessionToken: token }, expires: expiration };
}
