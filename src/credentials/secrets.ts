/**
 * Client secrets: `ks_` + 43 base62 characters (256 bits) + a 6-character checksum. The checksum
 * rejects a mistyped secret before any lookup and lets secret scanners recognise a leaked one.
 */
import { randomBase62, SECRET_CHARS, withChecksum, hasValidChecksum } from '../tokens/random.ts';

const PREFIX = 'ks_';
const SHAPE = new RegExp(`^${PREFIX}[0-9A-Za-z]{${SECRET_CHARS + 6}}$`);

export const newClientSecret = (): string => withChecksum(PREFIX + randomBase62(SECRET_CHARS));

export const looksLikeClientSecret = (value: string): boolean => SHAPE.test(value) && hasValidChecksum(value);
