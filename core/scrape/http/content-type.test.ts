import { describe, expect, test } from "bun:test";
import { parseMediaType, selectFormat } from "./content-type.ts";

describe("selectFormat()", () => {
  test("dispatches on the media type alone, ignoring parameters and case", () => {
    expect(selectFormat("text/plain; version=0.0.4; charset=utf-8")).toEqual({ ok: true, format: "text", mediaType: "text/plain" });
    expect(selectFormat("text/plain;version=1.0.0;escaping=allow-utf-8")).toMatchObject({ ok: true, format: "text" });
    expect(selectFormat("application/openmetrics-text; version=1.0.0; charset=utf-8")).toMatchObject({ ok: true, format: "openmetrics" });
    expect(selectFormat("Application/OpenMetrics-Text;version=0.0.1")).toMatchObject({ ok: true, format: "openmetrics" });
    expect(selectFormat("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")).toMatchObject({ ok: true, format: "protobuf" });
    expect(selectFormat("TEXT/PLAIN")).toMatchObject({ ok: true, format: "text" });
  });

  test("a blank Content-Type with no fallback fails with Prometheus's message", () => {
    const want = { ok: false as const, error: "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target" };
    expect(selectFormat("")).toEqual(want);
    expect(selectFormat("   ")).toEqual(want);
  });

  test("a blank Content-Type uses the fallback protocol's media type and says why", () => {
    expect(selectFormat("", "PrometheusText0.0.4")).toEqual({
      ok: true, format: "text", mediaType: "text/plain",
      fallback: 'non-compliant scrape target sending blank Content-Type, using fallback_scrape_protocol "text/plain"',
    });
    expect(selectFormat("", "OpenMetricsText1.0.0")).toMatchObject({ ok: true, format: "openmetrics" });
    expect(selectFormat("", "PrometheusProto")).toMatchObject({ ok: true, format: "protobuf" });
  });

  test("an unsupported media type fails without a fallback and uses it with one", () => {
    expect(selectFormat("text/html; charset=utf-8")).toEqual({
      ok: false, error: 'received unsupported Content-Type "text/html; charset=utf-8" and no fallback_scrape_protocol specified for target',
    });
    expect(selectFormat("application/json", "PrometheusText1.0.0")).toEqual({
      ok: true, format: "text", mediaType: "text/plain",
      fallback: 'received unsupported Content-Type "application/json", using fallback_scrape_protocol "text/plain"',
    });
  });

  test("an unparsable Content-Type fails with the parse error joined on a new line", () => {
    expect(selectFormat("text/plain; charset=utf-8,gb2312,gbk")).toEqual({
      ok: false, error: 'cannot parse Content-Type "text/plain; charset=utf-8,gb2312,gbk" and no fallback_scrape_protocol for target\nmime: invalid media parameter',
    });
    expect(selectFormat("text/", "PrometheusText0.0.4")).toEqual({
      ok: true, format: "text", mediaType: "text/plain",
      fallback: 'could not parse received Content-Type "text/", using fallback_scrape_protocol "text/plain"\nmime: expected token after slash',
    });
  });
});

describe("parseMediaType()", () => {
  test("follows Go's mime.ParseMediaType on what it accepts", () => {
    expect(parseMediaType("text/plain")).toBe("text/plain");
    expect(parseMediaType(" Text/Plain ; Version=0.0.4 ;")).toBe("text/plain");
    expect(parseMediaType('text/plain; a="quoted; value"; b=c')).toBe("text/plain");
    expect(parseMediaType('text/plain; a=""')).toBe("text/plain");
    // A lone token is a valid (disposition-style) value; it is then an unknown media type.
    expect(parseMediaType("text")).toBe("text");
  });

  test("follows Go's mime.ParseMediaType on what it rejects and why", () => {
    expect(parseMediaType(";charset=utf-8")).toEqual({ error: "mime: no media type" });
    expect(parseMediaType("text plain")).toEqual({ error: "mime: expected slash after first token" });
    expect(parseMediaType("text/")).toEqual({ error: "mime: expected token after slash" });
    expect(parseMediaType("text/plain/x")).toEqual({ error: "mime: unexpected content after media subtype" });
    expect(parseMediaType("text/plain; charset")).toEqual({ error: "mime: invalid media parameter" });
    expect(parseMediaType('text/plain; a="unterminated')).toEqual({ error: "mime: invalid media parameter" });
    expect(parseMediaType("text/plain; a=1; A=2")).toEqual({ error: "mime: duplicate parameter name" });
  });
});
