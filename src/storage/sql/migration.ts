/**
 * One step of a SQL backend's versioned schema. Each backend keeps its list in its own
 * `migrations.ts`, append only: a released migration never changes.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
