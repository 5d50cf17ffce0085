import { describe, expect, test } from "bun:test";
import { sha256Hex, signingKey, signV4, signV4Parts } from "./sigv4.ts";

// AWS's published SigV4 test suite (aws-sig-v4-test-suite) and the worked examples of its
// "Signature Version 4 signing process" guide.
const SUITE = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const AT = new Date("2015-08-30T12:36:00Z");

describe("SigV4", () => {
  test("get-vanilla: the canonical request, string to sign and Authorization header are the suite's", () => {
    const p = signV4Parts({ method: "GET", url: new URL("https://example.amazonaws.com/"), headers: {}, body: "" }, SUITE, "us-east-1", "service", AT);
    expect(p.canonicalRequest).toBe("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(p.stringToSign).toBe("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    expect(p.headers).toEqual({
      authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
      "x-amz-date": "20150830T123600Z",
    });
  });

  test("get-vanilla-query-order-key-case: query parameters are sorted", () => {
    const p = signV4Parts({ method: "GET", url: new URL("https://example.amazonaws.com/?Param2=value2&Param1=value1"), headers: {}, body: "" }, SUITE, "us-east-1", "service", AT);
    expect(p.signature).toBe("b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  });

  test("post-x-www-form-urlencoded: the content type is signed and the body hashed", () => {
    const h = signV4({ method: "POST", url: new URL("https://example.amazonaws.com/"), headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "Param1=value1" }, SUITE, "us-east-1", "service", AT);
    expect(h.authorization).toBe("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
  });

  test("the guide's IAM ListUsers example and its derived keys", () => {
    const p = signV4Parts({ method: "GET", url: new URL("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"), headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" }, body: "" }, SUITE, "us-east-1", "iam", AT);
    expect(sha256Hex(p.canonicalRequest)).toBe("f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    expect(p.signature).toBe("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    expect(signingKey(SUITE.secretAccessKey, "20120215", "us-east-1", "iam").toString("hex")).toBe("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  });

  test("a session token is signed and sent as x-amz-security-token", () => {
    const h = signV4({ method: "GET", url: new URL("https://example.amazonaws.com/"), headers: {}, body: "" }, { ...SUITE, sessionToken: "TOKEN" }, "us-east-1", "service", AT);
    expect(h["x-amz-security-token"]).toBe("TOKEN");
    expect(h.authorization).toContain("SignedHeaders=host;x-amz-date;x-amz-security-token,");
  });
});
