/**
 * Device authorization requests (RFC 8628). A decision and a redemption are each one conditional
 * `UPDATE … RETURNING`: exactly one caller gets a row back. A poll locks its row (`FOR UPDATE`) to
 * read and write its pace. A redemption takes the family's lock (tokens.ts) and, for a client that is
 * not trusted, reads the consent `FOR KEY SHARE` first, in the same order as codes.ts (CON-06).
 */
import { DEVICE_CODE_COLUMNS, deviceCodeValues, toDeviceCode, type DeviceCodeRow } from '../sql/rows.ts';
import { SLOW_DOWN_SECONDS, type DeviceCodeRepo } from '../types.ts';
import { redeemIn } from './codes.ts';
import { firstByDigest, insertSql, type Db } from './db.ts';

const INSERT = insertSql('device_codes', DEVICE_CODE_COLUMNS);
const APPROVE = "UPDATE device_codes SET status = 'approved', subject = $3, subject_type = $4, auth_time = $5, session_id = $6, decided_at = $2 WHERE digest = $1 AND status = 'pending' AND expires_at > $2 RETURNING digest";
const DENY = "UPDATE device_codes SET status = 'denied', decided_at = $2 WHERE digest = $1 AND status = 'pending' AND expires_at > $2 RETURNING digest";
const LOCK = 'SELECT * FROM device_codes WHERE digest = $1 FOR UPDATE';
const POLLED = 'UPDATE device_codes SET polled_at = $2, poll_interval = $3 WHERE digest = $1';
const CONSUME = "UPDATE device_codes SET status = 'redeemed' WHERE digest = $1 AND status = 'approved' RETURNING digest";

export function postgresDeviceCodes(db: Db): DeviceCodeRepo {
  return {
    async insert(r) {
      await db.query(INSERT, deviceCodeValues(r));
    },
    async find(digests) {
      const row = await firstByDigest<DeviceCodeRow>(db.query, 'device_codes', digests);
      return row && toDeviceCode(row);
    },
    async findByUserCode(digests) {
      if (digests.length === 0) return undefined;
      const rows = await db.query<DeviceCodeRow>('SELECT * FROM device_codes WHERE user_code = ANY($1::text[])', [digests]);
      for (const d of digests) {
        const row = rows.find((r) => r.user_code === d);
        if (row) return toDeviceCode(row);
      }
      return undefined;
    },
    async decide(digest, at, approval) {
      const rows = approval ? await db.query(APPROVE, [digest, at, approval.subject, approval.subjectType, approval.authTime, approval.sessionId]) : await db.query(DENY, [digest, at]);
      return rows.length === 1;
    },
    async poll(digest, at) {
      return db.tx(async (q) => {
        const [row] = await q<DeviceCodeRow>(LOCK, [digest]);
        if (!row) return undefined;
        const tooFast = row.polled_at !== null && at - row.polled_at < row.poll_interval * 1000;
        const interval = tooFast ? row.poll_interval + SLOW_DOWN_SECONDS : row.poll_interval;
        await q(POLLED, [digest, at, interval]);
        return { record: toDeviceCode({ ...row, polled_at: at, poll_interval: interval }), tooFast };
      });
    },
    async redeem(digest, _at, tokens, check) {
      return db.tx((q) => redeemIn(q, async () => (await q(CONSUME, [digest])).length === 1, tokens, check));
    },
  };
}
