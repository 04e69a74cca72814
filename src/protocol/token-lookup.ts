/**
 * Finds the stored record of an opaque token (access or refresh, of any dialect): the token must be
 * recognised by one of the deployment's opaque formats (checksum/shape, before any lookup — SECURITY
 * D-03), then it is looked up by digest under every live pepper (D-01). The formats come from what
 * the mounted dialects declare (tokens/formats.ts `opaqueFormatsOf`), so none is named here.
 */
import type { Store, TokenRecord } from '../storage/types.ts';
import { candidateDigests } from '../tokens/digest.ts';
import type { Keyring } from '../tokens/keyring.ts';
import type { OpaqueFormat } from '../tokens/opaque.ts';

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
