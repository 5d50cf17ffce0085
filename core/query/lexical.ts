/**
 * PromQL literals as Prometheus reads them: numbers (Go ParseInt base 0, then ParseFloat,
 * Inf/NaN in any case), durations (model.ParseDuration) and strings (Go strconv.Unquote,
 * with single-quoted strings of any length as Prometheus allows).
 */

/** Parses a number literal (no sign); null when it is not one. */
export function parseNumber(text: string): number | null {
  const s = text.replace(/_/g, "");
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[0-7]+$/.test(s)) return parseInt(s, 8);
  if (/^0[oO][0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0[bB][01]+$/.test(s)) return parseInt(s.slice(2), 2);
  const lower = s.toLowerCase();
  if (lower === "inf" || lower === "+inf" || lower === "infinity") return Infinity;
  if (lower === "nan") return NaN;
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  if (/^0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*[pP][+-]?\d+$/.test(s)) return parseHexFloat(s);
  return null;
}

function parseHexFloat(s: string): number {
  const m = /^0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(s)!;
  const int = m[1] ?? "";
  const frac = m[2] ?? "";
  const mant = parseInt(int + frac || "0", 16);
  return mant * Math.pow(2, Number(m[3]) - 4 * frac.length);
}

const UNITS: Record<string, number> = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const UNIT_ORDER = ["y", "w", "d", "h", "m", "s", "ms"];

/** Parses a Prometheus duration (`1h30m`, `5m`, `100ms`) to ms; null when malformed. */
export function parseDuration(text: string): number | null {
  if (text === "0") return 0;
  const re = /(\d+)(ms|[ywdhms])/gy;
  let total = 0;
  let last = -1;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const unit = m[2]!;
    const idx = UNIT_ORDER.indexOf(unit);
    if (idx <= last) return null;
    last = idx;
    total += Number(m[1]) * UNITS[unit]!;
    pos = re.lastIndex;
  }
  if (pos !== text.length || last < 0) return null;
  return total;
}

/** Prints ms as model.Duration does: `1h30m`, `5m`, `0s`, `379d`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let out = "";
  let rest = Math.abs(ms);
  for (const u of UNIT_ORDER) {
    const size = UNITS[u]!;
    // Years and weeks only when exact (model.Duration prints 90d, not 12w6d).
    if ((u === "y" || u === "w") && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return (ms < 0 ? "-" : "") + out;
}

/**
 * Unquotes a PromQL string literal ("...", '...' or `...`) with Go's escape rules.
 * @throws SyntaxError naming the bad escape.
 */
export function unquote(text: string): string {
  const q = text[0];
  if (text.length < 2 || text[text.length - 1] !== q) throw new SyntaxError("unterminated quoted string");
  const body = text.slice(1, -1);
  if (q === "`") {
    if (body.includes("`")) throw new SyntaxError("invalid syntax");
    return body.replace(/\r/g, "");
  }
  if (q !== '"' && q !== "'") throw new SyntaxError("invalid syntax");
  let out = "";
  // \x and octal escapes are bytes, as in Go: a run of them is read as UTF-8, and a byte that
  // is not part of valid UTF-8 becomes a lone surrogate (U+DC80–U+DCFF), so the string is not
  // well-formed and a label name made of it is refused, as Prometheus refuses it.
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    try {
      out += new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : String.fromCharCode(0xdc00 + b);
    }
    bytes = [];
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === q || c === "\n") throw new SyntaxError("invalid syntax");
    const byteEscape = c === "\\" && (body[i + 1] === "x" || (body[i + 1]! >= "0" && body[i + 1]! <= "7"));
    if (!byteEscape) flush();
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case "a": out += "\x07"; break;
      case "b": out += "\b"; break;
      case "f": out += "\f"; break;
      case "n": out += "\n"; break;
      case "r": out += "\r"; break;
      case "t": out += "\t"; break;
      case "v": out += "\v"; break;
      case "\\": out += "\\"; break;
      case '"':
      case "'":
        if (e !== q) throw new SyntaxError("invalid syntax");
        out += e;
        break;
      case "x":
      case "u":
      case "U": {
        const n = e === "x" ? 2 : e === "u" ? 4 : 8;
        const hex = body.slice(i + 1, i + 1 + n);
        if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) throw new SyntaxError("invalid syntax");
        const code = parseInt(hex, 16);
        if (e === "x") bytes.push(code);
        else {
          if (code > 0x10ffff || (code >= 0xd800 && code < 0xe000)) throw new SyntaxError("invalid syntax");
          out += String.fromCodePoint(code);
        }
        i += n;
        break;
      }
      default: {
        if (e !== undefined && e >= "0" && e <= "7") {
          const oct = body.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(oct)) throw new SyntaxError("invalid syntax");
          const code = parseInt(oct, 8);
          if (code > 255) throw new SyntaxError("invalid syntax");
          bytes.push(code);
          i += 2;
          break;
        }
        throw new SyntaxError(`unknown escape sequence U+${(e ?? "").codePointAt(0)?.toString(16).toUpperCase().padStart(4, "0")} '${e}'`);
      }
    }
  }
  flush();
  return out;
}

/** Go's %q of a string (as Prometheus prints strings and matcher values). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

/** Go's fmt.Sprint of a float64 (%v: shortest digits, exponent form when exp < -4 or exp >= 6). */
export function goFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const [mant, ex] = v.toExponential().split("e") as [string, string];
  const e = Number(ex);
  if (e < -4 || e >= 6) return `${mant}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  const s = String(v);
  return s.includes("e") ? v.toFixed(20).replace(/\.?0+$/, "") : s;
}
