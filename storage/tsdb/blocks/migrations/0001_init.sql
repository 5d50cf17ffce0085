-- gleaner block store, schema version 1. Applied once, inside a transaction, by
-- BlockStore.open(); its version lands in schema_version. See index.ts for the layout.
CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS series (
  ref INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  labels TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS series_name ON series (name);

CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  ref INTEGER NOT NULL,
  mint INTEGER NOT NULL,
  maxt INTEGER NOT NULL,
  count INTEGER NOT NULL,
  parts INTEGER NOT NULL,
  crc INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS chunks_ref_maxt ON chunks (ref, maxt);
CREATE INDEX IF NOT EXISTS chunks_maxt ON chunks (maxt);
