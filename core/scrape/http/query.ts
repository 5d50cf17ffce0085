/** URL query encoding as Go's net/url does it, so URLs and form bodies match Prometheus's. */

/** Go's url.QueryEscape: only A–Z a–z 0–9 - _ . ~ stay; space becomes "+". */
export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, "+");
}

/** Go's url.Values.Encode: keys sorted, every value of a key in order. */
export function encodeValues(values: ReadonlyMap<string, readonly string[]>): string {
  return [...values.keys()]
    .sort()
    .flatMap((k) => values.get(k)!.map((v) => `${queryEscape(k)}=${queryEscape(v)}`))
    .join("&");
}
