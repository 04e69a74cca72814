/** The dialects this build speaks, by name. Adding one is adding its file and one line here. */
import { fuuffy } from './fuuffy.ts';
import { oauth2 } from './oauth2.ts';
import { orum } from './orum.ts';
import { polar } from './polar.ts';
import { polygonOms } from './polygon-oms.ts';
import { tradevest } from './tradevest.ts';
import type { Dialect } from './types.ts';

export const DIALECTS: ReadonlyMap<string, Dialect> = new Map<string, Dialect>(
  [oauth2, polygonOms, orum, polar, tradevest, fuuffy].map((d) => [d.name, d]),
);
