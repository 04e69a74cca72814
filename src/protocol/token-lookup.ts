/**
 * Finds the stored record of an opaque token (access or refresh, of any dialect): the token must be
 * recognised by one of the registered opaque formats (checksum/shape, before any lookup — SECURITY
 * D-03), then it is looked up by digest under every live pepper (D-01). Formats are collected from
 * what the dialects declare, so a new dialect's tokens are found without naming it here.
 */
import type { Store, TokenRecord } from '../storage/types.ts';
import { candidateDigests } from '../tokens/digest.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { keymintAccessFormat, type OpaqueFormat } from '../tokens/opaque.ts';
import { refreshTokenFormat, type IssueFormats } from './issue.ts';

export interface TokenLookupDeps {
  readonly store: Pick<Store, 'tokens'>;
  readonly keyring: Pick<Keyring, 'peppers'>;
  /** Every opaque format this deployment can have issued. */
  readonly opaqueFormats: readonly OpaqueFormat[];
}

export async function findStoredToken(token: string, deps: TokenLookupDeps): Promise<TokenRecord | undefined> {
  if (token.length > 512 || !deps.opaqueFormats.some((f) => f.recognises(token))) return undefined;
  return deps.store.tokens.find(candidateDigests(deps.keyring.peppers(), token));
}

/** The opaque formats the given dialects declare, plus Keymint's own; deduplicated by name. */
export function opaqueFormatsOf(dialects: Iterable<IssueFormats>): OpaqueFormat[] {
  const byName = new Map<string, OpaqueFormat>();
  const add = (f: OpaqueFormat | undefined) => {
    if (f && !byName.has(f.name)) byName.set(f.name, f);
  };
  add(refreshTokenFormat);
  add(keymintAccessFormat);
  for (const d of dialects) {
    if (d.accessToken.format === 'opaque') {
      add(d.accessToken.opaque);
      for (const f of Object.values(d.accessToken.bySubjectType ?? {})) add(f);
    }
    add(d.refreshToken?.opaque);
    for (const f of Object.values(d.refreshToken?.bySubjectType ?? {})) add(f);
  }
  return [...byName.values()];
}
