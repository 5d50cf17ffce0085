/** The QueryEngine: instant and range evaluation of PromQL over a SeriesQuerier. */
import type { SeriesQuerier } from "../../storage/types.ts";
import { QueryError, type EngineOptions, type QueryOptions, type QueryResult } from "./values.ts";

export class QueryEngine {
  constructor(
    readonly querier: SeriesQuerier,
    readonly opts: EngineOptions = {},
  ) {}

  async instant(_expr: string, _timeMs: number, _opts: QueryOptions = {}): Promise<QueryResult> {
    throw new QueryError("internal", "not implemented yet");
  }

  async range(_expr: string, _startMs: number, _endMs: number, _stepMs: number, _opts: QueryOptions = {}): Promise<QueryResult> {
    throw new QueryError("internal", "not implemented yet");
  }
}
