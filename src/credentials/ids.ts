/**
 * Client identifiers encode their mode and deployment environment, so a key is recognisable at a
 * glance and a key of another environment is refused before any lookup:
 * `sk_live_…` / `sk_sdbx_…` in `prod`, `sk_<env>_live_…` / `sk_<env>_sdbx_…` elsewhere.
 */
import type { ClientMode } from '../storage/types.ts';
import { randomBase62 } from '../tokens/random.ts';

export interface IdSettings {
  /** Leading part of every client id (config `idPrefix`, default `sk`). */
  readonly idPrefix: string;
  /** This deployment's environment (config `environment`, default `prod`). */
  readonly environment: string;
}

const MODE_TAG: Record<ClientMode, string> = { live: 'live', sandbox: 'sdbx' };
const ID_RANDOM_CHARS = 24; // ≈ 143 bits: ids are public, but must never collide

export function newClientId(settings: IdSettings, mode: ClientMode): string {
  const env = settings.environment === 'prod' ? '' : `${settings.environment}_`;
  return `${settings.idPrefix}_${env}${MODE_TAG[mode]}_${randomBase62(ID_RANDOM_CHARS)}`;
}

export interface ParsedClientId {
  readonly environment: string;
  readonly mode: ClientMode;
}

/**
 * The shape of an id under each prefix: prefix, an optional environment, the mode's tag, the random
 * part. One expression, run on every token request: splitting the id at `_` and testing the parts
 * one by one cost some ten times as much. (Prefixes are letters and digits: config `idPrefix`.)
 */
const shapes = new Map<string, RegExp>();

function idShape(prefix: string): RegExp {
  let shape = shapes.get(prefix);
  if (!shape) shapes.set(prefix, (shape = new RegExp(`^${prefix}_(?:([a-z0-9]{1,16})_)?(live|sdbx)_[0-9A-Za-z]{${ID_RANDOM_CHARS}}$`)));
  return shape;
}

/** Parses an id of this deployment's shape; undefined when it is not one at all. */
export function parseClientId(settings: IdSettings, id: string): ParsedClientId | undefined {
  const match = idShape(settings.idPrefix).exec(id);
  if (!match) return undefined;
  return { environment: match[1] ?? 'prod', mode: match[2] === 'live' ? 'live' : 'sandbox' };
}
