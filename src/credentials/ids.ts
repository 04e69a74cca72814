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

/** Parses an id of this deployment's shape; undefined when it is not one at all. */
export function parseClientId(settings: IdSettings, id: string): ParsedClientId | undefined {
  if (!id.startsWith(`${settings.idPrefix}_`)) return undefined;
  const parts = id.slice(settings.idPrefix.length + 1).split('_');
  const random = parts.pop();
  const tag = parts.pop();
  if (random === undefined || !/^[0-9A-Za-z]{24}$/.test(random) || parts.length > 1) return undefined;
  const mode = tag === 'live' ? 'live' : tag === 'sdbx' ? 'sandbox' : undefined;
  if (!mode) return undefined;
  const environment = parts[0] ?? 'prod';
  if (!/^[a-z0-9]{1,16}$/.test(environment)) return undefined;
  return { environment, mode };
}
