/**
 * One-time use of DPoP proofs and client assertions.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */
/**
 * One-time use of a DPoP proof or a client assertion (`jti`: RFC 9449 §11.1, RFC 7523 §3 item 7),
 * shared by every node and process on the store. Keys are fixed-length hashes, never the proof.
 */
export interface ReplayRepo {
  /**
   * ONE atomic insert-unless-present: records `key` until `expiresAt` (epoch ms) and resolves true
   * for the first claimer; false for every later one while the record is live at `at`. An expired
   * record counts as absent. Of N concurrent claims exactly one is true. SQL: `INSERT … ON CONFLICT
   * DO UPDATE … WHERE expires_at <= at`, one changed row says this caller won.
   */
  claim(key: string, expiresAt: number, at: number): Promise<boolean>;
}
