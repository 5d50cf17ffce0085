/**
 * The block store's tables as drizzle schema, for typed queries. The SQL that creates them
 * lives in migrations/*.sql (embedded at build time); keep both in step.
 */
import { blob, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const schemaVersion = sqliteTable("schema_version", {
  version: integer("version").primaryKey(),
  appliedAt: integer("applied_at").notNull(),
});

export const series = sqliteTable(
  "series",
  {
    ref: integer("ref").primaryKey(),
    name: text("name").notNull(),
    labels: text("labels").notNull(),
  },
  (t) => [index("series_name").on(t.name)],
);

export const chunks = sqliteTable(
  "chunks",
  {
    id: integer("id").primaryKey(),
    ref: integer("ref").notNull(),
    mint: integer("mint").notNull(),
    maxt: integer("maxt").notNull(),
    count: integer("count").notNull(),
    parts: integer("parts").notNull(),
    crc: integer("crc").notNull(),
    data: blob("data", { mode: "buffer" }).notNull(),
  },
  (t) => [uniqueIndex("chunks_ref_maxt").on(t.ref, t.maxt), index("chunks_maxt").on(t.maxt)],
);
