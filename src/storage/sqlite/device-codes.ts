/**
 * Device authorization requests (RFC 8628). Each write is one `BEGIN IMMEDIATE`: a decision and a
 * redemption are conditional UPDATEs, one changed row says this caller won; a poll reads and writes
 * its pace under the write lock, unflushed (db.ts). A redemption checks the consent and writes its tokens in the same
 * transaction (as codes.ts).
 */
import { DEVICE_CODE_COLUMNS, deviceCodeValues, toDeviceCode, type DeviceCodeRow } from '../sql/rows.ts';
import { SLOW_DOWN_SECONDS, type DeviceCodeRepo } from '../types.ts';
import { redemptionWrite } from './codes.ts';
import { firstOf, insertSql, type Db } from './db.ts';

export function sqliteDeviceCodes(db: Db): DeviceCodeRepo {
  const insert = db.prepare(insertSql('device_codes', DEVICE_CODE_COLUMNS));
  const find = db.prepare<DeviceCodeRow>('SELECT * FROM device_codes WHERE digest = ?');
  const findByUser = db.prepare<DeviceCodeRow>('SELECT * FROM device_codes WHERE user_code = ?');
  const approve = db.prepare(
    "UPDATE device_codes SET status = 'approved', subject = ?, subject_type = ?, auth_time = ?, session_id = ?, decided_at = ? WHERE digest = ? AND status = 'pending' AND expires_at > ?",
  );
  const deny = db.prepare("UPDATE device_codes SET status = 'denied', decided_at = ? WHERE digest = ? AND status = 'pending' AND expires_at > ?");
  const polled = db.prepare('UPDATE device_codes SET polled_at = ?, poll_interval = ? WHERE digest = ?');
  const consume = db.prepare("UPDATE device_codes SET status = 'redeemed' WHERE digest = ? AND status = 'approved'");
  const redeem = redemptionWrite(db);
  return {
    async insert(r) {
      await db.immediate(() => insert.run(...deviceCodeValues(r)));
    },
    async find(digests) {
      const row = firstOf(digests, find);
      return row && toDeviceCode(row);
    },
    async findByUserCode(digests) {
      const row = firstOf(digests, findByUser);
      return row && toDeviceCode(row);
    },
    async decide(digest, at, approval) {
      return db.immediate(() =>
        (approval ? approve.run(approval.subject, approval.subjectType, approval.authTime, approval.sessionId, at, digest, at) : deny.run(at, digest, at)) === 1,
      );
    },
    async poll(digest, at) {
      // The pace is a write no answer relies on being durable (a poll forgotten by a power loss only
      // makes the next one look slower): committed without waiting for the fsync.
      return db.unflushed(() => {
        const row = find.get(digest);
        if (!row) return undefined;
        const tooFast = row.polled_at !== null && at - row.polled_at < row.poll_interval * 1000;
        const interval = tooFast ? row.poll_interval + SLOW_DOWN_SECONDS : row.poll_interval;
        polled.run(at, interval, digest);
        return { record: toDeviceCode({ ...row, polled_at: at, poll_interval: interval }), tooFast };
      });
    },
    async redeem(digest, _at, issued, check) {
      return db.immediate(() => redeem(() => consume.run(digest) === 1, issued, check));
    },
  };
}
