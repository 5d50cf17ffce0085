import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { definePlugin, PluginRegistry } from "../plugin.ts";
import { ConfigError } from "./errors.ts";
import { loadConfigFile, parseConfig, type LoadOptions } from "./load.ts";

const FIXTURES = resolve(import.meta.dir, "../../test/fixtures/config");

function load(yaml: string, opts: LoadOptions = {}) {
  return parseConfig(yaml, "prometheus.yml", opts);
}

/** The error message `yaml` fails with. */
function failure(yaml: string, opts: LoadOptions = {}): string {
  try {
    load(yaml, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

function job(extra: string, global = ""): string {
  return `${global ? `global:\n${global}\n` : ""}scrape_configs:\n  - job_name: j\n${extra}`;
}

describe("global defaults (spec §1.2)", () => {
  test("an empty file gets every global default", () => {
    const c = load("");
    expect(c.global).toMatchObject({
      scrape_interval: 60_000, scrape_timeout: 10_000, evaluation_interval: 60_000, rule_query_offset: 0,
      scrape_protocols: null, external_labels: {}, body_size_limit: 0, sample_limit: 0, target_limit: 0,
      label_limit: 0, label_name_length_limit: 0, label_value_length_limit: 0, keep_dropped_targets: 0,
      metric_name_validation_scheme: "utf8", metric_name_escaping_scheme: "allow-utf-8",
      scrape_native_histograms: false, convert_classic_histograms_to_nhcb: false,
      always_scrape_classic_histograms: false, extra_scrape_metrics: false,
    });
    expect(c.scrape_configs).toEqual([]);
  });

  test("an empty global block gets the defaults back", () => {
    expect(load("global:\n").global.scrape_interval).toBe(60_000);
  });

  test("scrape_interval 0 becomes 1m", () => {
    expect(load("global:\n  scrape_interval: 0\n").global.scrape_interval).toBe(60_000);
  });

  test("an unset global timeout is the smaller of 10s and the interval", () => {
    expect(load("global:\n  scrape_interval: 5s\n").global.scrape_timeout).toBe(5_000);
    expect(load("global:\n  scrape_interval: 30s\n").global.scrape_timeout).toBe(10_000);
  });

  test("a global timeout above the global interval is rejected with both values", () => {
    expect(failure("global:\n  scrape_interval: 10s\n  scrape_timeout: 15s\n")).toBe(
      "prometheus.yml:3:19: global.scrape_timeout (15s) is greater than global.scrape_interval (10s)",
    );
  });

  test("legacy validation derives the underscores escaping scheme", () => {
    expect(load("global:\n  metric_name_validation_scheme: legacy\n").global.metric_name_escaping_scheme).toBe("underscores");
  });

  test("an unknown validation scheme is rejected", () => {
    expect(failure("global:\n  metric_name_validation_scheme: strict\n")).toContain('global.metric_name_validation_scheme (strict) must be "utf8" or "legacy"');
  });

  test("external_labels expand $VAR and ${VAR}, $$ is a literal $, unset variables become empty with a warning", () => {
    const warnings: string[] = [];
    const c = load('global:\n  external_labels:\n    a: "$ZONE-${RACK}"\n    b: "$$HOME"\n    c: "x${MISSING}y"\n', {
      env: { ZONE: "eu", RACK: "r7" },
      warn: (w) => warnings.push(w),
    });
    expect(c.global.external_labels).toEqual({ a: "eu-r7", b: "$HOME", c: "xy" });
    expect(warnings).toEqual(['global.external_labels.c: environment variable "MISSING" is empty or not set']);
  });

  test("external label names are checked against the validation scheme", () => {
    expect(failure("global:\n  metric_name_validation_scheme: legacy\n  external_labels:\n    dc.name: x\n")).toContain(
      'prometheus.yml:4:5: global.external_labels: "dc.name" is not a valid label name',
    );
    expect(load("global:\n  external_labels:\n    dc.name: x\n").global.external_labels).toEqual({ "dc.name": "x" });
  });

  test("global scrape_protocols are validated", () => {
    expect(failure("global:\n  scrape_protocols: [PrometheusText0.0.4, prometheustext0.0.4]\n")).toContain("duplicated protocol in scrape_protocols");
    expect(failure("global:\n  scrape_protocols: []\n")).toContain("scrape_protocols cannot be empty");
    expect(failure("global:\n  scrape_protocols: [Text]\n")).toContain('unknown scrape protocol "Text"');
  });
});

describe("scrape_config defaults and inheritance (spec §1.3)", () => {
  test("a job gets Prometheus's defaults", () => {
    const j = load(job("")).scrape_configs[0]!;
    expect(j).toMatchObject({
      job_name: "j", honor_labels: false, honor_timestamps: true, track_timestamps_staleness: false,
      params: {}, scrape_interval: 60_000, scrape_timeout: 10_000, metrics_path: "/metrics", scheme: "http",
      enable_compression: true, follow_redirects: true, enable_http2: true,
      scrape_protocols: ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"],
      metric_name_validation_scheme: "utf8", metric_name_escaping_scheme: "allow-utf-8",
      relabel_configs: [], metric_relabel_configs: [], static_configs: [], service_discovery: [],
    });
    expect(j.tls_config).toEqual({ insecure_skip_verify: false, min_version: "TLS12" });
    expect(j.fallback_scrape_protocol).toBeUndefined();
  });

  test("a job interval of 5s with the global timeout of 10s gives a 5s timeout", () => {
    const j = load(job("    scrape_interval: 5s\n")).scrape_configs[0]!;
    expect([j.scrape_interval, j.scrape_timeout]).toEqual([5_000, 5_000]);
  });

  test("a job inherits the global interval and timeout", () => {
    const j = load(job("", "  scrape_interval: 20s\n  scrape_timeout: 7s")).scrape_configs[0]!;
    expect([j.scrape_interval, j.scrape_timeout]).toEqual([20_000, 7_000]);
  });

  test("an explicit job timeout above the job interval is rejected, naming file, line and path", () => {
    expect(failure(job("    scrape_interval: 10s\n    scrape_timeout: 15s\n"))).toBe(
      "prometheus.yml:4:21: scrape_configs[0].scrape_timeout (15s) is greater than scrape_interval (10s)",
    );
  });

  test("an explicit job timeout is checked against the inherited interval", () => {
    expect(failure(job("    scrape_timeout: 2m\n"))).toContain("scrape_configs[0].scrape_timeout (2m) is greater than scrape_interval (1m)");
  });

  test("limits inherit the global value when the job leaves them at 0", () => {
    const g = "  sample_limit: 100\n  label_limit: 7\n  body_size_limit: 1MB\n  target_limit: 3\n  keep_dropped_targets: 9\n  label_name_length_limit: 11\n  label_value_length_limit: 12";
    const j = load(job("    sample_limit: 0\n    label_limit: 5\n", g)).scrape_configs[0]!;
    expect(j).toMatchObject({ sample_limit: 100, label_limit: 5, body_size_limit: 1024 ** 2, target_limit: 3, keep_dropped_targets: 9, label_name_length_limit: 11, label_value_length_limit: 12 });
  });

  test("the job protocol list is, in order: its own, the global one, proto-first with native histograms, the default", () => {
    const own = load(job("    scrape_protocols: [PrometheusText0.0.4]\n", "  scrape_protocols: [PrometheusProto]")).scrape_configs[0]!;
    expect(own.scrape_protocols).toEqual(["PrometheusText0.0.4"]);
    const global = load(job("    scrape_native_histograms: true\n", "  scrape_protocols: [PrometheusText1.0.0]")).scrape_configs[0]!;
    expect(global.scrape_protocols).toEqual(["PrometheusText1.0.0"]);
    const native = load(job("    scrape_native_histograms: true\n")).scrape_configs[0]!;
    expect(native.scrape_protocols[0]).toBe("PrometheusProto");
    const nativeGlobal = load(job("", "  scrape_native_histograms: true")).scrape_configs[0]!;
    expect(nativeGlobal.scrape_protocols[0]).toBe("PrometheusProto");
  });

  test("fallback_scrape_protocol must be a known protocol", () => {
    expect(load(job("    fallback_scrape_protocol: PrometheusText0.0.4\n")).scrape_configs[0]!.fallback_scrape_protocol).toBe("PrometheusText0.0.4");
    expect(failure(job("    fallback_scrape_protocol: text\n"))).toContain("scrape_configs[0].fallback_scrape_protocol (text) is not a scrape protocol");
  });

  test("the escaping scheme follows the job's validation scheme, else the global escaping", () => {
    const pick = (extra: string, global = "") => load(job(extra, global)).scrape_configs[0]!.metric_name_escaping_scheme;
    expect(pick("", "  metric_name_escaping_scheme: dots")).toBe("dots");
    expect(pick("    metric_name_validation_scheme: legacy\n")).toBe("underscores");
    expect(pick("    metric_name_validation_scheme: utf8\n", "  metric_name_validation_scheme: legacy")).toBe("allow-utf-8");
    expect(pick("", "  metric_name_validation_scheme: legacy")).toBe("underscores");
  });

  test("allow-utf-8 escaping with legacy validation is rejected", () => {
    expect(failure(job("    metric_name_validation_scheme: legacy\n    metric_name_escaping_scheme: allow-utf-8\n"))).toContain("utf8 metric names requested");
  });

  test("booleans, histogram and extra-metrics switches inherit from global", () => {
    const j = load(job("", "  extra_scrape_metrics: true\n  always_scrape_classic_histograms: true\n  convert_classic_histograms_to_nhcb: true")).scrape_configs[0]!;
    expect(j).toMatchObject({ extra_scrape_metrics: true, always_scrape_classic_histograms: true, convert_classic_histograms_to_nhcb: true, scrape_native_histograms: false });
    const k = load(job("    extra_scrape_metrics: false\n", "  extra_scrape_metrics: true")).scrape_configs[0]!;
    expect(k.extra_scrape_metrics).toBe(false);
  });

  test("YAML 1.1 booleans and numbers written as strings are read as Go's yaml does", () => {
    const j = load("scrape_configs:\n  - job_name: 123\n    honor_labels: yes\n    honor_timestamps: off\n    sample_limit: '10'\n").scrape_configs[0]!;
    expect(j).toMatchObject({ job_name: "123", honor_labels: true, honor_timestamps: false, sample_limit: 10 });
  });

  test("native-histogram switches load with a warning that they are not supported yet", () => {
    const warnings: string[] = [];
    load(job("    scrape_native_histograms: true\n"), { warn: (w) => warnings.push(w) });
    expect(warnings).toEqual(["scrape_configs[0].scrape_native_histograms: native histograms are not supported yet; classic histograms are scraped as series"]);
  });

  test("scrape_failure_log_file is joined with the config directory and inherited", () => {
    const c = parseConfig(job("", "  scrape_failure_log_file: fail.log"), "/etc/gleaner/prometheus.yml");
    expect(c.scrape_configs[0]!.scrape_failure_log_file).toBe("/etc/gleaner/fail.log");
  });
});

describe("bad input is reported with file, line, column and path", () => {
  test("an unknown key is an error with a suggestion", () => {
    expect(failure(job("    scrape_intervall: 10s\n"))).toBe('prometheus.yml:3:5: scrape_configs[0].scrape_intervall: unknown field (did you mean "scrape_interval"?)');
    expect(failure("globals:\n  scrape_interval: 1s\n")).toBe('prometheus.yml:1:1: globals: unknown field (did you mean "global"?)');
  });

  test("a duplicate job name is an error at the second one", () => {
    expect(failure("scrape_configs:\n  - job_name: a\n  - job_name: b\n  - job_name: a\n")).toBe(
      'prometheus.yml:4:15: scrape_configs[2].job_name: found multiple scrape configs with job name "a"',
    );
  });

  test("a missing or empty job name is an error", () => {
    expect(failure("scrape_configs:\n  - scrape_interval: 1s\n")).toBe("prometheus.yml:2:5: scrape_configs[0]: job_name is empty");
    expect(failure("scrape_configs:\n  - job_name: ''\n")).toContain("scrape_configs[0]: job_name is empty");
  });

  test("a null scrape config is an error", () => {
    expect(failure("scrape_configs:\n  -\n")).toContain("scrape_configs[0]: empty or null scrape config section");
  });

  test("a bad duration names the value and the path", () => {
    expect(failure(job("    scrape_interval: 1.5m\n"))).toBe(
      'prometheus.yml:3:22: scrape_configs[0].scrape_interval (1.5m) is not a valid duration: not a valid duration string: "1.5m" (use e.g. 15s, 1m30s, 1h, 2d)',
    );
  });

  test("a bad size names the value and the path", () => {
    expect(failure(job("    body_size_limit: 10kB\n"))).toContain('scrape_configs[0].body_size_limit (10kB) is not a valid size: unknown unit "kB"');
  });

  test("a bad regex is an error with RE2's reason", () => {
    expect(failure(job("    metric_relabel_configs:\n      - source_labels: [a]\n        regex: (foo\n"))).toBe(
      "prometheus.yml:5:16: scrape_configs[0].metric_relabel_configs[0].regex ((foo) is not a valid RE2 regular expression: missing closing ): `(foo`",
    );
  });

  test("lookarounds and backreferences, which JavaScript would accept, are rejected", () => {
    expect(failure(job("    relabel_configs:\n      - regex: a(?!b)\n        action: drop\n"))).toContain("invalid or unsupported Perl syntax");
    expect(failure(job("    relabel_configs:\n      - regex: (a)\\1\n        action: drop\n"))).toContain("invalid escape sequence");
  });

  test("a value of the wrong shape says what was expected", () => {
    expect(failure("scrape_configs:\n  job_name: a\n")).toBe("prometheus.yml:2:3: scrape_configs: expected a list, got a map");
    expect(failure(job("    static_configs: localhost:9090\n"))).toBe('prometheus.yml:3:21: scrape_configs[0].static_configs: expected a list, got "localhost:9090"');
    expect(failure(job("    honor_labels: [true]\n"))).toContain("scrape_configs[0].honor_labels: expected a single value, got a list");
    expect(failure("- a\n- b\n")).toContain("the config file must be a map of settings");
  });

  test("text that is not YAML is an error at its position", () => {
    expect(failure("scrape_configs:\n  - job_name: a\n   scrape_interval: 1s\n")).toMatch(/^prometheus\.yml:3:\d+: invalid YAML: /);
    expect(failure("a: [1, 2\n")).toMatch(/^prometheus\.yml:\d+:\d+: invalid YAML: /);
    expect(failure("global:\n  scrape_interval: 1s\n  scrape_interval: 2s\n")).toBe("prometheus.yml:3:3: invalid YAML: Map keys must be unique");
  });

  test("a missing file names the file", () => {
    expect(() => loadConfigFile("/nonexistent/prometheus.yml")).toThrow("/nonexistent/prometheus.yml: cannot read config file: no such file");
  });

  test("an unreadable file names the file", () => {
    if (process.getuid?.() === 0) {
      // root reads anything; a directory is unreadable as a file for everyone.
      const dir = mkdtempSync(join(tmpdir(), "gleaner-"));
      expect(() => loadConfigFile(dir)).toThrow(`${dir}: cannot read config file: is a directory`);
      return;
    }
    const file = join(mkdtempSync(join(tmpdir(), "gleaner-")), "p.yml");
    writeFileSync(file, "global: {}\n");
    chmodSync(file, 0);
    expect(() => loadConfigFile(file)).toThrow(`${file}: cannot read config file: permission denied`);
  });

  test("static targets that look like URLs are rejected when the job has no relabeling", () => {
    expect(failure(job("    static_configs:\n      - targets: [http://a:9100]\n"))).toContain('scrape_configs[0].static_configs[0].targets[0]: "http://a:9100" is not a valid hostname');
    expect(load(job("    relabel_configs:\n      - target_label: x\n        replacement: y\n    static_configs:\n      - targets: [http://a:9100]\n")).scrape_configs).toHaveLength(1);
  });

  test("anchors and << merge keys work, and errors point where the value was written", () => {
    const c = load("scrape_configs:\n  - &defaults\n    job_name: a\n    scrape_interval: 10s\n  - <<: *defaults\n    job_name: b\n");
    expect(c.scrape_configs.map((s) => [s.job_name, s.scrape_interval])).toEqual([["a", 10_000], ["b", 10_000]]);
    expect(failure("scrape_configs:\n  - &defaults\n    job_name: a\n    scrape_interval: 10s\n  - <<: *defaults\n    job_name: b\n    scrape_timeout: 20s\n")).toBe(
      "prometheus.yml:7:21: scrape_configs[1].scrape_timeout (20s) is greater than scrape_interval (10s)",
    );
  });
});

describe("service discovery keys go to plugins", () => {
  test("an SD key without a plugin says which plugin is missing", () => {
    expect(failure(job("    kubernetes_sd_configs:\n      - role: pod\n"))).toBe(
      "prometheus.yml:3:5: scrape_configs[0].kubernetes_sd_configs: no plugin for kubernetes_sd_configs (available: static_configs)",
    );
  });

  test("a registered plugin parses its entries, with located errors", () => {
    const plugins = new PluginRegistry([
      {
        origin: "test",
        plugin: definePlugin({
          apiVersion: 1,
          kind: "discovery",
          name: "file",
          parseConfig: (raw, ctx) => {
            const c = ctx.validate(z.strictObject({ files: z.array(z.string()) }), raw);
            if (c.files.length === 0) throw ctx.error(["files"], "at least one file is needed");
            return c;
          },
          create: () => ({ run: () => {} }),
        }),
      },
    ]);
    const c = load(job("    file_sd_configs:\n      - files: [a.json]\n"), { plugins });
    expect(c.scrape_configs[0]!.service_discovery).toEqual([{ mechanism: "file", config: { files: ["a.json"] }, path: "scrape_configs[0].file_sd_configs[0]" }]);
    expect(failure(job("    file_sd_configs:\n      - files: []\n"), { plugins })).toBe("prometheus.yml:4:16: scrape_configs[0].file_sd_configs[0].files: at least one file is needed");
    expect(failure(job("    file_sd_configs:\n      - filez: []\n"), { plugins })).toContain('scrape_configs[0].file_sd_configs[0].filez: unknown field (did you mean "files"?)');
    expect(failure(job("    file_sd_configs:\n      -\n"), { plugins })).toContain("scrape_configs[0].file_sd_configs[0]: empty or null section in file_sd_configs");
    expect(failure(job("    kubernetes_sd_configs: []\n"), { plugins })).toContain("(available: static_configs, file_sd_configs)");
  });
});

describe("fixtures written as Prometheus users write them", () => {
  test("the Prometheus documentation example loads unchanged", () => {
    const c = loadConfigFile(join(FIXTURES, "prometheus-example.yml"));
    expect(c.global.scrape_interval).toBe(15_000);
    expect(c.global.evaluation_interval).toBe(15_000);
    expect(c.alerting.alertmanagers).toHaveLength(1);
    expect(c.alerting.alertmanagers[0]!.static_configs).toEqual([{ targets: [], labels: {} }]);
    expect(c.scrape_configs.map((s) => [s.job_name, s.scrape_interval, s.scrape_timeout])).toEqual([["prometheus", 15_000, 10_000]]);
    expect(c.scrape_configs[0]!.static_configs).toEqual([{ targets: ["localhost:9090"], labels: { app: "prometheus" } }]);
  });

  test("a config using every supported field loads with every value in place", () => {
    const c = loadConfigFile(join(FIXTURES, "every-field.yml"), { env: { GLEANER_TEST_REPLICA: "r1" } });
    expect(c.global.external_labels).toEqual({ region: "eu-west-1", replica: "r1", price: "$5" });
    expect(c.global.body_size_limit).toBe(10 * 1024 ** 2);
    expect(c.global.query_log_file).toBe(join(FIXTURES, "query.log"));
    expect(c.runtime.gogc).toBe(50);
    expect(c.rule_files).toEqual([join(FIXTURES, "rules/*.yml")]);

    const node = c.scrape_configs[0]!;
    expect(node).toMatchObject({
      job_name: "node", honor_labels: true, honor_timestamps: false, track_timestamps_staleness: true,
      params: { module: ["http_2xx"], target: ["example.com", "example.org"] },
      scrape_interval: 10_000, scrape_timeout: 5_000, metrics_path: "/probe", scheme: "https",
      enable_compression: false, body_size_limit: 512 * 1024, sample_limit: 1000, target_limit: 5,
      native_histogram_bucket_limit: 160, native_histogram_min_bucket_factor: 1.1,
      metric_name_validation_scheme: "legacy", metric_name_escaping_scheme: "underscores",
      follow_redirects: false, enable_http2: false, proxy_url: "http://proxy.internal:3128",
      basic_auth: { username: "prom", password_file: join(FIXTURES, "secrets/password") },
    });
    expect(node.tls_config).toEqual({
      ca_file: join(FIXTURES, "secrets/ca.pem"), cert_file: join(FIXTURES, "secrets/client.pem"), key_file: join(FIXTURES, "secrets/client.key"),
      server_name: "node.internal", insecure_skip_verify: false, min_version: "TLS12", max_version: "TLS13",
    });
    expect(node.http_headers["X-Secret"]).toEqual({ values: [], secrets: ["s3cr3t"], files: [join(FIXTURES, "secrets/header")] });
    expect(node.relabel_configs.map((r) => r.action)).toEqual(["replace", "replace", "replace", "keep", "hashmod", "labelmap", "labeldrop", "lowercase", "keepequal"]);
    expect(node.relabel_configs[0]).toEqual({ source_labels: ["__address__"], separator: ";", regex: "(.*)", modulus: 0, target_label: "__param_target", replacement: "$1", action: "replace" });
    expect(node.static_configs).toHaveLength(2);

    const byJob = Object.fromEntries(c.scrape_configs.map((s) => [s.job_name, s]));
    expect(byJob.bearer!.authorization).toEqual({ type: "Bearer", credentials_file: join(FIXTURES, "secrets/token") });
    expect(byJob.authz!.authorization).toEqual({ type: "Bearer", credentials: "abc" });
    expect(byJob.oauth!.oauth2).toMatchObject({ client_id: "id", token_url: "https://auth.example/token", scopes: ["read"], endpoint_params: { audience: "gleaner" } });

    // scrape_config_files: matched in name order, paths relative to their own file.
    expect(c.scrape_configs.map((s) => s.job_name)).toEqual(["node", "bearer", "authz", "oauth", "blackbox", "pushgateway"]);
    expect(byJob.blackbox!.source_file).toBe(join(FIXTURES, "scrape.d/blackbox.yml"));
    expect(byJob.blackbox!.basic_auth?.password_file).toBe(join(FIXTURES, "secrets/password"));
    expect(byJob.blackbox!.scrape_interval).toBe(30_000); // from the main file's global

    expect(c.remote_write[0]).toMatchObject({
      url: "http://mimir.internal/api/v1/push", name: "mimir", remote_timeout: 10_000, send_exemplars: true, enable_http2: false,
      queue_config: { capacity: 2500, max_shards: 20, min_shards: 1, max_samples_per_send: 500, batch_send_deadline: 5_000, min_backoff: 30, max_backoff: 5_000, retry_on_http_429: true, sample_age_limit: 0 },
      metadata_config: { send: false, send_interval: 60_000, max_samples_per_send: 2000 },
    });
    expect(c.remote_write[1]!.queue_config.capacity).toBe(10_000);
    expect(c.remote_read[0]).toMatchObject({ read_recent: true, remote_timeout: 60_000, filter_external_labels: true, required_matchers: { env: "prod" } });
    expect(c.storage.tsdb.out_of_order_time_window).toBe(1_800_000);
    expect(c.storage.exemplars.max_exemplars).toBe(1000);
  });
});

describe("scrape_config_files", () => {
  function dirWith(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), "gleaner-cfg-"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  test("a job name used in the main file and an included file is an error in the included file", () => {
    const dir = dirWith({ "main.yml": "scrape_config_files: [inc-*.yml]\nscrape_configs:\n  - job_name: a\n", "inc-1.yml": "scrape_configs:\n  - job_name: a\n" });
    expect(() => loadConfigFile(join(dir, "main.yml"))).toThrow(`${join(dir, "inc-1.yml")}:2:15: scrape_configs[0].job_name: found multiple scrape configs with job name "a", first found in ${join(dir, "main.yml")}`);
  });

  test("an included file may hold only scrape_configs, validated against the main global block", () => {
    const dir = dirWith({ "main.yml": "global:\n  scrape_interval: 5s\nscrape_config_files: [inc.yml]\n", "inc.yml": "global:\n  scrape_interval: 1s\n" });
    expect(() => loadConfigFile(join(dir, "main.yml"))).toThrow(`${join(dir, "inc.yml")}:1:1: global: unknown field`);
    const ok = dirWith({ "main.yml": "global:\n  scrape_interval: 5s\nscrape_config_files: [inc.yml]\n", "inc.yml": "scrape_configs:\n  - job_name: x\n    scrape_timeout: 6s\n" });
    expect(() => loadConfigFile(join(ok, "main.yml"))).toThrow("scrape_configs[0].scrape_timeout (6s) is greater than scrape_interval (5s)");
  });

  test("a * outside the last path element is rejected", () => {
    expect(failure("scrape_config_files: ['*/jobs.yml']\n")).toContain('scrape_config_files[0]: invalid scrape config file path "*/jobs.yml"');
  });

  test("a pattern matching nothing adds no jobs", () => {
    expect(load("scrape_config_files: ['nothing-*.yml']\n").scrape_configs).toEqual([]);
  });
});

describe("HTTP client block (spec §1.4)", () => {
  test("conflicting authentication settings are rejected", () => {
    const cases: Array<[string, string]> = [
      ["    bearer_token: a\n    bearer_token_file: b\n", "at most one of bearer_token & bearer_token_file must be configured"],
      ["    bearer_token: a\n    basic_auth:\n      username: u\n", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"],
      ["    authorization:\n      credentials: a\n    basic_auth:\n      username: u\n", "at most one of basic_auth, oauth2 & authorization must be configured"],
      ["    authorization:\n      credentials: a\n      credentials_file: b\n", "at most one of authorization credentials & credentials_file must be configured"],
      ["    authorization:\n      type: Basic\n", 'authorization type cannot be set to "basic", use "basic_auth" instead'],
      ["    basic_auth:\n      password: a\n      password_file: b\n", "at most one of basic_auth password, password_file & password_ref must be configured"],
      ["    oauth2:\n      client_id: a\n", "oauth2 token_url must be configured"],
      ["    oauth2:\n      token_url: http://x\n", "oauth2 client_id must be configured"],
      ["    no_proxy: localhost\n", "if no_proxy is configured, proxy_url must also be configured"],
      ["    proxy_from_environment: true\n    proxy_url: http://p:1\n", "if proxy_from_environment is configured, proxy_url and no_proxy must not be configured"],
      ["    proxy_connect_header:\n      A: [b]\n", "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured"],
      ["    http_headers:\n      User-Agent:\n        values: [x]\n", 'setting header "User-Agent" is not allowed'],
      ["    tls_config:\n      cert_file: c.pem\n", "exactly one of key or key_file must be configured when a client certificate is configured"],
      ["    tls_config:\n      ca: x\n      ca_file: y\n", "at most one of ca, ca_file & ca_ref must be configured"],
      ["    tls_config:\n      min_version: TLS14\n", "(TLS14) is not a TLS version"],
    ];
    for (const [extra, message] of cases) expect(failure(job(extra)), extra).toContain(message);
  });

  test("Accept is not a reserved header", () => {
    expect(load(job("    http_headers:\n      Accept:\n        values: [text/plain]\n")).scrape_configs[0]!.http_headers.Accept!.values).toEqual(["text/plain"]);
  });
});

describe("remote_write (spec §6.3)", () => {
  test("an entry gets the queue and metadata defaults, HTTP/2 off", () => {
    const rw = load("remote_write:\n  - url: http://x/api/v1/write\n").remote_write[0]!;
    expect(rw).toMatchObject({
      remote_timeout: 30_000, name: "", send_exemplars: false, protobuf_message: "prometheus.WriteRequest", enable_http2: false, follow_redirects: true,
      queue_config: { capacity: 10_000, max_shards: 50, min_shards: 1, max_samples_per_send: 2_000, batch_send_deadline: 5_000, min_backoff: 30, max_backoff: 5_000, retry_on_http_429: false },
      metadata_config: { send: true, send_interval: 60_000, max_samples_per_send: 2_000 },
    });
  });

  test("bad entries are rejected with their path", () => {
    const cases: Array<[string, string]> = [
      ["  - name: a\n", "remote_write[0]: url for remote_write is empty"],
      ["  - url: 'not a url'\n", "remote_write[0].url (not a url) is not a valid URL"],
      ["  - url: http://x\n    headers:\n      Authorization: x\n", "authorization header must be changed via the basic_auth"],
      ["  - url: http://x\n    headers:\n      Content-Type: x\n", "Content-Type is a reserved header"],
      ["  - url: http://x\n    queue_config:\n      capacity: 0\n", "remote_write[0].queue_config.capacity (0) must be greater than 0"],
      ["  - url: http://x\n    queue_config:\n      min_shards: 10\n      max_shards: 2\n", "min_shards (10) is greater than max_shards (2)"],
      ["  - url: http://x\n    queue_config:\n      min_backoff: 10s\n      max_backoff: 1s\n", "max_backoff is less than min_backoff"],
      ["  - url: http://x\n    protobuf_message: v3\n", "remote_write[0].protobuf_message (v3) must be"],
      ["  - url: http://x\n    name: a\n  - url: http://y\n    name: a\n", 'found multiple remote write configs with name "a"'],
      ["  - url: http://x\n    sigv4:\n      region: eu\n", "remote_write[0].sigv4: not supported by gleaner yet"],
      ["  - url: http://x\n    basic_auth:\n      username: u\n    sigv4:\n      region: eu\n", "at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured"],
      ["  -\n", "remote_write[0]: empty or null remote write config section"],
    ];
    for (const [entries, message] of cases) expect(failure(`remote_write:\n${entries}`), entries).toContain(message);
  });
});

describe("other top-level blocks", () => {
  test("alerting, storage, tracing and otlp are validated", () => {
    expect(failure("alerting:\n  alertmanagers:\n    - api_version: v1\n")).toContain("expected Alertmanager api version to be one of [v2] but got v1");
    expect(failure("tracing:\n  client_type: http\n")).toContain("tracing endpoint must be set");
    expect(failure("tracing:\n  endpoint: x:4317\n  compression: zstd\n")).toContain("tracing.compression (zstd) is not a valid compression type");
    expect(failure("otlp:\n  translation_strategy: Foo\n")).toContain('unsupported OTLP translation strategy "Foo"');
    expect(failure("storage:\n  tsdb:\n    retention:\n      size: 1XB\n")).toContain("storage.tsdb.retention.size (1XB) is not a valid size");
    expect(load("tracing:\n  endpoint: x:4317\n").tracing).toMatchObject({ client_type: "grpc", endpoint: "x:4317" });
  });

  test("rule_files are joined with the config directory", () => {
    expect(parseConfig("rule_files: [rules/*.yml, /abs/r.yml]\n", "/etc/g/p.yml").rule_files).toEqual(["/etc/g/rules/*.yml", "/abs/r.yml"]);
  });
});
