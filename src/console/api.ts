/** JSON for the console's scripts (the traffic charts), under `/console/api/`. */
import type { ConsoleData } from './data.ts';
import { jsonResponse, route, type ConsoleRoute } from './http.ts';

export function apiRoutes(data: ConsoleData): ConsoleRoute[] {
  return [route('GET', '/api/traffic', 'viewer', async () => jsonResponse(200, await data.traffic()))];
}
