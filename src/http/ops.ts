/**
 * Operations endpoints: liveness (`/healthz`), readiness (`/readyz`: the store answers) and
 * Prometheus metrics (`/metrics`). Never shed, never rate limited, no credentials.
 */
import type { Metrics } from '../metrics/index.ts';
import type { Store } from '../storage/types.ts';
import { json } from '../wire/http.ts';
import type { Outcome } from './pipeline.ts';
import type { Route } from './router.ts';

export const OPS_PATHS = ['/healthz', '/readyz', '/metrics'] as const;

const noStore = { 'Cache-Control': 'no-store' };

/** `scrape`: what /metrics answers instead of this process's registry (a cluster worker: every worker's). */
export function opsRoutes(store: Pick<Store, 'keys' | 'failure'>, metrics: Metrics, scrape?: () => Promise<string>): Route[] {
  return [
    { method: 'GET', path: '/healthz', owner: 'core', handler: () => json(200, { status: 'ok' }, noStore) },
    {
      method: 'GET',
      path: '/readyz',
      owner: 'core',
      handler: async () => {
        try {
          // A store that refuses writes until a restart (a failed fsync) is not ready, though it reads.
          if (store.failure?.() !== undefined) throw new Error('the store refuses writes');
          await store.keys.version();
          return json(200, { status: 'ready' }, noStore);
        } catch {
          return json(503, { status: 'unavailable' }, { ...noStore, 'Retry-After': '1' });
        }
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      owner: 'core',
      handler: async () => ({ status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', ...noStore }, body: scrape ? await scrape() : metrics.render() }),
    },
  ];
}

/** Counts every pipeline outcome: token requests by dialect, grant and result, latency, auth failures, dependency 503s. */
export function metricsObserver(metrics: Metrics): (outcome: Outcome) => void {
  return (o) => {
    if (o.error?.code === 'invalid_client') metrics.authFailures.inc({ reason: o.error.reason ?? 'credentials' });
    if (o.error?.code === 'temporarily_unavailable') metrics.unavailable.inc({ cause: 'dependency' });
    if (o.endpoint !== 'token') return;
    metrics.tokens.inc({ dialect: o.dialect, grant: o.grant ?? 'unknown', result: o.result });
    metrics.latency.observe({ dialect: o.dialect }, o.ms / 1000);
  };
}
