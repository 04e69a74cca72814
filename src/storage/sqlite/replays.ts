/**
 * One-time keys. A claim is one statement: insert, or take over a row that has expired; one changed
 * row says this caller won. SQLite serialises writers, so concurrent claims (other processes on the
 * file included) see each other. Claims are group-committed like token inserts: those made in one
 * turn of the event loop share one transaction, and each resolves after COMMIT.
 *
 * Those commits run with `synchronous = NORMAL` (the connection is FULL again right after): in WAL
 * mode a commit is then in the log, seen by every process and kept through a process crash, but not
 * flushed to the disk, so only a power loss can forget the last claims, and with them reopen a replay
 * window of at most one proof or assertion lifetime. That spares every DPoP or `private_key_jwt`
 * request an fsync that no token needs from it.
 */
import type { ReplayRepo } from '../types.ts';
import type { Db } from './db.ts';

interface Pending {
  readonly key: string;
  readonly expiresAt: number;
  readonly at: number;
  resolve(won: boolean): void;
  reject(err: unknown): void;
}

export function sqliteReplays(db: Db): ReplayRepo {
  const claim = db.prepare(
    'INSERT INTO replays (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replays.expires_at <= ?',
  );
  let pending: Pending[] = [];

  const flush = (): void => {
    const batch = pending;
    pending = [];
    let won: boolean[];
    db.exec('PRAGMA synchronous = NORMAL');
    try {
      won = db.immediate(() => batch.map((p) => claim.run(p.key, p.expiresAt, p.at) === 1));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    } finally {
      db.exec('PRAGMA synchronous = FULL');
    }
    batch.forEach((p, i) => p.resolve(won[i]!));
  };

  return {
    claim(key, expiresAt, at) {
      return new Promise<boolean>((resolve, reject) => {
        if (pending.push({ key, expiresAt, at, resolve, reject }) === 1) setImmediate(flush);
      });
    },
  };
}
