/** The dialects this build speaks, by name. Adding one is adding its file and one line here. */
import { fuuffy } from './fuuffy.ts';
import { oauth2 } from './oauth2.ts';
import { orum } from './orum.ts';
import { polar } from './polar.ts';
import { polygonOms } from './polygon-oms.ts';
import { tradevest } from './tradevest.ts';
import { ConfigError } from '../config/parse.ts';
import type { Config } from '../config/types.ts';
import type { Dialect } from './types.ts';

export const DIALECTS: ReadonlyMap<string, Dialect> = new Map<string, Dialect>(
  [oauth2, polygonOms, orum, polar, tradevest, fuuffy].map((d) => [d.name, d]),
);

export interface Mount {
  readonly dialect: Dialect;
  /** Path of its token endpoint. */
  readonly path: string;
}

/** The configured mounts, each dialect at its path (its default unless given); an unknown name is a ConfigError. */
export function mountsOf(config: Pick<Config, 'dialects'>): Mount[] {
  return config.dialects.map(({ name, path }) => {
    const dialect = DIALECTS.get(name);
    if (!dialect) throw new ConfigError('dialects', `unknown dialect ${JSON.stringify(name)}; known: ${[...DIALECTS.keys()].join(', ')}`);
    return { dialect, path: path ?? dialect.defaultPath };
  });
}
