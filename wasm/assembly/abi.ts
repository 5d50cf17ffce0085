// Constants shared by the AssemblyScript core and its TypeScript bindings (wasm/index.ts).
// This file must compile under both asc and tsc: untyped integer constants only
// (asc infers i32 for them, tsc infers number).

/** Bumped whenever the memory layout or an export's signature changes. */
export const ABI_VERSION = 3;

// ---- XOR chunk codec (wasm/assembly/xor.ts, wasm/xor.ts) --------------------------------
/** Append/iterate status codes. Non-negative: no error. */
export const XOR_OK = 0;
/** Same timestamp and identical value bits as the last sample: nothing written, no error. */
export const XOR_DUPLICATE = 1;
/** Timestamp before the chunk's last timestamp. */
export const XOR_ERR_OUT_OF_ORDER = -1;
/** Same timestamp as the last sample with different value bits. */
export const XOR_ERR_DUPLICATE_TIMESTAMP = -2;
/** The chunk holds XOR_MAX_SAMPLES samples (its u16 count header is full). */
export const XOR_ERR_FULL = -3;
/** The chunk bytes end early or hold a malformed varint. */
export const XOR_ERR_CORRUPT = -4;
export const XOR_MAX_SAMPLES = 65535;
/** Chunk header (64 bytes): buffer ptr u32, capacity u32, bit length u32, count u32,
 * last t i64, (private) t delta, last value bits u64, (private) window, first t i64. */
export const XOR_CHUNK_HEADER_SIZE = 48;
export const XOR_CHUNK_BUF = 0;
export const XOR_CHUNK_CAP = 4;
export const XOR_CHUNK_BITS = 8;
export const XOR_CHUNK_COUNT = 12;
export const XOR_CHUNK_LAST_T = 16;
export const XOR_CHUNK_LAST_V = 32;
/** Iterator (64 bytes). JS reads T (i64), V (value bits, u64) and STALE (u32 0/1). */
export const XOR_ITER_SIZE = 64;
export const XOR_ITER_CHUNK = 0;
export const XOR_ITER_POS = 4;
export const XOR_ITER_END = 8;
export const XOR_ITER_TOTAL = 12;
export const XOR_ITER_READ = 16;
export const XOR_ITER_STALE = 20;
export const XOR_ITER_T = 24;
export const XOR_ITER_V = 32;
export const XOR_ITER_TDELTA = 40;
export const XOR_ITER_LEADING = 48;
export const XOR_ITER_TRAILING = 49;
/** StaleNaN 0x7ff0000000000002 as u32 halves. */
export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 2;

// ---- Exposition parsers (wasm/assembly/parse/, wasm/parser.ts) --------------------------
/** parserRun() formats. */
export const FORMAT_TEXT = 1;
export const FORMAT_OPENMETRICS = 2;
export const FORMAT_PROTOBUF = 3;
/** parserRun() flags: OpenMetrics semantic validation as the OpenMetrics test suite expects
 * (grouping, bucket order, counter values, exemplar placement…), which Prometheus does not do. */
export const PARSE_FLAG_OM_STRICT = 1;
/** Sample kinds (u8 per sample). */
export const KIND_UNTYPED = 0;
export const KIND_COUNTER = 1;
export const KIND_GAUGE = 2;
export const KIND_HISTOGRAM_BUCKET = 3;
export const KIND_HISTOGRAM_SUM = 4;
export const KIND_HISTOGRAM_COUNT = 5;
export const KIND_SUMMARY_QUANTILE = 6;
export const KIND_SUMMARY_SUM = 7;
export const KIND_SUMMARY_COUNT = 8;
export const KIND_GAUGEHISTOGRAM_BUCKET = 9;
export const KIND_GAUGEHISTOGRAM_GSUM = 10;
export const KIND_GAUGEHISTOGRAM_GCOUNT = 11;
export const KIND_INFO = 12;
export const KIND_STATESET = 13;
export const KIND_CREATED = 14;
/** Metric family types (family records). */
export const MTYPE_UNKNOWN = 0;
export const MTYPE_COUNTER = 1;
export const MTYPE_GAUGE = 2;
export const MTYPE_HISTOGRAM = 3;
export const MTYPE_SUMMARY = 4;
export const MTYPE_GAUGEHISTOGRAM = 5;
export const MTYPE_INFO = 6;
export const MTYPE_STATESET = 7;
/** Sample flags (u8 per sample). */
export const SAMPLE_HAS_TIMESTAMP = 1;
export const SAMPLE_HAS_EXEMPLAR = 2;
export const SAMPLE_EXEMPLAR_HAS_TIMESTAMP = 4;
/** Family record: FAMILY_WORDS u32 words; *_START/*_END are absolute addresses in memory. */
export const FAMILY_WORDS = 8;
export const FAMILY_NAME_START = 0;
export const FAMILY_NAME_END = 1;
export const FAMILY_HELP_START = 2;
export const FAMILY_HELP_END = 3;
export const FAMILY_UNIT_START = 4;
export const FAMILY_UNIT_END = 5;
export const FAMILY_TYPE = 6;
export const FAMILY_FLAGS = 7;
export const FAMILY_HAS_HELP = 1;
export const FAMILY_HAS_TYPE = 2;
export const FAMILY_HAS_UNIT = 4;
/** Parser header: u32 words at parserHeader(); array entries are addresses of SoA arrays. */
export const PH_SAMPLES = 0;
export const PH_FAMILIES = 1;
export const PH_SERIES_START = 2;
export const PH_SERIES_END = 3;
export const PH_VALUE = 4;
export const PH_TIMESTAMP = 5;
export const PH_KIND = 6;
export const PH_FLAGS = 7;
export const PH_EXEMPLAR_START = 8;
export const PH_EXEMPLAR_END = 9;
export const PH_EXEMPLAR_VALUE = 10;
export const PH_EXEMPLAR_TIMESTAMP = 11;
export const PH_LINE = 12;
export const PH_FAMILY = 13;
export const PH_FAMILY_RECORDS = 14;
export const PH_ERR_CODE = 15;
export const PH_ERR_LINE = 16;
export const PH_ERR_COLUMN = 17;
export const PH_INPUT = 18;
export const PH_INPUT_LEN = 19;
export const PH_FORMAT = 20;
export const PH_WORDS = 24;
/** Parse errors (PH_ERR_CODE). Reason texts are in wasm/parser.ts. */
export const PARSE_OK = 0;
export const PARSE_ERR_METRIC_NAME = 1;
export const PARSE_ERR_LABEL_NAME = 2;
export const PARSE_ERR_EXPECTED_EQUALS = 3;
export const PARSE_ERR_EXPECTED_LABEL_VALUE = 4;
export const PARSE_ERR_UNTERMINATED_STRING = 5;
export const PARSE_ERR_EXPECTED_COMMA_OR_BRACE = 6;
export const PARSE_ERR_INVALID_UTF8 = 7;
export const PARSE_ERR_EXPECTED_VALUE = 8;
export const PARSE_ERR_INVALID_VALUE = 9;
export const PARSE_ERR_VALUE_RANGE = 10;
export const PARSE_ERR_INVALID_TIMESTAMP = 11;
export const PARSE_ERR_EXPECTED_LINE_END = 12;
export const PARSE_ERR_INVALID_TYPE = 13;
export const PARSE_ERR_INVALID_METADATA = 14;
export const PARSE_ERR_NAME_ALREADY_SET = 15;
export const PARSE_ERR_CARRIAGE_RETURN = 16;
export const PARSE_ERR_NO_EOF = 17;
export const PARSE_ERR_DATA_AFTER_EOF = 18;
export const PARSE_ERR_BLANK_LINE = 19;
export const PARSE_ERR_INVALID_COMMENT = 20;
export const PARSE_ERR_UNIT_NOT_SUFFIX = 21;
export const PARSE_ERR_INVALID_EXEMPLAR = 22;
export const PARSE_ERR_EXEMPLAR_TOO_LONG = 23;
export const PARSE_ERR_EXEMPLAR_NOT_ALLOWED = 24;
export const PARSE_ERR_DUPLICATE_LABEL = 25;
export const PARSE_ERR_CLASHING_NAME = 26;
export const PARSE_ERR_METADATA_AFTER_SAMPLES = 27;
export const PARSE_ERR_REPEATED_METADATA = 28;
export const PARSE_ERR_TIMESTAMP_ORDER = 29;
export const PARSE_ERR_INVALID_GROUPING = 30;
export const PARSE_ERR_INVALID_LABEL_FOR_TYPE = 31;
export const PARSE_ERR_INVALID_VALUE_FOR_TYPE = 32;
export const PARSE_ERR_INVALID_HISTOGRAM = 33;
export const PARSE_ERR_UNIT_NOT_ALLOWED = 34;
export const PARSE_ERR_PB_TRUNCATED = 40;
export const PARSE_ERR_PB_MALFORMED = 41;
export const PARSE_ERR_PB_NATIVE_HISTOGRAM = 42;
export const PARSE_ERR_PB_INVALID_TYPE = 43;
export const PARSE_ERR_PB_EMPTY_NAME = 44;
export const PARSE_ERR_BAD_FORMAT = 50;

// ---- Scrape cache (wasm/assembly/cache.ts, wasm/cache.ts) --------------------------------
// Series refs are u32 values below 2^31, so they read the same through an Int32Array; the
// two sentinels are negative there (0xffffffff and 0xfffffffe as u32).
export const CACHE_MISS = -1;
export const CACHE_DROPPED = -2;
/** cacheInsert() results. */
export const CACHE_INSERT_NEW = 0;
export const CACHE_INSERT_UPDATED = 1;
/** The key was already seen in this scrape: the target exposes the series twice. */
export const CACHE_INSERT_DUPLICATE = 2;
/** Cache header (64 bytes); fields JS may read, all u32. */
export const CACHE_HEADER_SIZE = 64;
export const CACHE_H_COUNT = 8;
export const CACHE_H_EPOCH = 12;
/** Distinct entries seen in the current scrape. */
export const CACHE_H_SEEN = 16;
/** Duplicate lookups (a key seen twice) in the current scrape. */
export const CACHE_H_DUPS = 20;
/** Duplicates reported by the last lookup, insert or batch lookup. */
export const CACHE_H_LAST_DUPS = 24;
/** Side arena (rewritten and synthesized series) address and length, for bounds checks. */
export const PH_SIDE = 21;
export const PH_SIDE_LEN = 22;
/** parserRun() flag: read only the classic parts of protobuf histograms that also carry
 * native-histogram fields (Prometheus with native histograms off) instead of failing. */
export const PARSE_FLAG_PB_IGNORE_NATIVE = 2;
