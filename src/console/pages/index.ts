/** Every page route of the console. */
import type { ConsoleData } from '../data.ts';
import type { ConsoleRoute } from '../http.ts';
import { homeRoutes } from './home.ts';

export function pageRoutes(_data: ConsoleData): ConsoleRoute[] {
  return [...homeRoutes];
}
