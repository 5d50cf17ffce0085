import { describe, expect, test } from "bun:test";
import { DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, DEFAULT_SCRAPE_PROTOCOLS } from "../../config/global.ts";
import { buildAcceptHeader, formatTimeoutSeconds } from "./accept.ts";

describe("buildAcceptHeader()", () => {
  test("the default v3 protocols with UTF-8 give Prometheus's exact header", () => {
    expect(buildAcceptHeader(DEFAULT_SCRAPE_PROTOCOLS, "allow-utf-8")).toBe(
      "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
    );
  });

  test("the proto-first list runs from q=0.6 down and gives */* q=0.1", () => {
    expect(buildAcceptHeader(DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, "allow-utf-8")).toBe(
      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
    );
  });

  test("only the 1.0.0 text formats carry the escaping scheme", () => {
    expect(buildAcceptHeader(DEFAULT_SCRAPE_PROTOCOLS, "underscores")).toBe(
      "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
    );
    expect(buildAcceptHeader(["PrometheusText1.0.0", "PrometheusProto"], "dots")).toBe(
      "text/plain;version=1.0.0;escaping=dots;q=0.6,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,*/*;q=0.4",
    );
  });

  test("a single protocol keeps the configured order and the catch-all at the next weight", () => {
    expect(buildAcceptHeader(["PrometheusText0.0.4"], "values")).toBe("text/plain;version=0.0.4;q=0.6,*/*;q=0.5");
    expect(buildAcceptHeader(["OpenMetricsText1.0.0"], "values")).toBe("application/openmetrics-text;version=1.0.0;escaping=values;q=0.6,*/*;q=0.5");
  });

  test("more protocols than exist is refused rather than producing q=0.0", () => {
    expect(() => buildAcceptHeader([...DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, "PrometheusProto"], "allow-utf-8")).toThrow(RangeError);
  });
});

describe("formatTimeoutSeconds()", () => {
  test("uses the fewest digits, as Go's FormatFloat(s, 'f', -1, 64)", () => {
    expect(formatTimeoutSeconds(10_000)).toBe("10");
    expect(formatTimeoutSeconds(1_500)).toBe("1.5");
    expect(formatTimeoutSeconds(500)).toBe("0.5");
    expect(formatTimeoutSeconds(1)).toBe("0.001");
    expect(formatTimeoutSeconds(90_000)).toBe("90");
    expect(formatTimeoutSeconds(12_345)).toBe("12.345");
  });
});
