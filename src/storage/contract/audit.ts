/**
 * The audit log: who did what to which object, never a secret.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */
export interface AuditEvent {
  readonly at: number;
  /** Who: `cli`, `admin:<client id>`, `system`. */
  readonly actor: string;
  /** What: `client.create`, `client.rotate_secret`, `key.rotate`, … */
  readonly action: string;
  /** The object acted on (client id, kid); never a secret. */
  readonly target: string;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditRepo {
  append(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(limit: number): Promise<AuditEvent[]>;
  /**
   * Newest first, filtered (every given filter must match exactly), keyset-paged: at most `limit`
   * events strictly older than the `before` cursor of a previous page. `next` is the cursor of the
   * following page, undefined on the last one. Cursors are opaque; a malformed one starts from the
   * newest. Stable under concurrent appends (new events never shift a page).
   */
  query(filter: AuditFilter, limit: number, before?: string): Promise<AuditPage>;
}

export interface AuditFilter {
  /** The object acted on (a client id, a kid, a console user). */
  readonly target?: string;
  readonly actor?: string;
  /** Exact, or ending with `.` a prefix (`client.` for every client action). */
  readonly action?: string;
}

/** True when `event` passes every filter given (the rule every backend implements in its own way). */
export const auditMatches = (e: AuditEvent, f: AuditFilter): boolean =>
  (f.target === undefined || e.target === f.target) &&
  (f.actor === undefined || e.actor === f.actor) &&
  (f.action === undefined || (f.action.endsWith('.') ? e.action.startsWith(f.action) : e.action === f.action));

export interface AuditPage {
  readonly events: AuditEvent[];
  readonly next: string | undefined;
}

/** The keyset position of an audit cursor: a sequence number, or undefined (from the newest). */
export const auditPosition = (cursor: string | undefined): number | undefined =>
  cursor !== undefined && /^[1-9]\d{0,14}$/.test(cursor) ? Number(cursor) : undefined;

/** The page of `limit` events from rows fetched newest first, one more than `limit` when a next page exists. */
export function auditPage(rows: ReadonlyArray<{ readonly seq: number; readonly event: AuditEvent }>, limit: number): AuditPage {
  const page = rows.slice(0, limit);
  return { events: page.map((r) => r.event), next: rows.length > limit ? String(page.at(-1)!.seq) : undefined };
}
