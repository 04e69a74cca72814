/** The dialects this build speaks, by name. Adding one is adding its file and one line here. */
import { oauth2 } from './oauth2.ts';
import { polar } from './polar.ts';
import type { Dialect } from './types.ts';

export const DIALECTS: ReadonlyMap<string, Dialect> = new Map<string, Dialect>([
  [oauth2.name, oauth2],
  [polar.name, polar],
]);
