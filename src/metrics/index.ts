/**
 * Keymint's metrics, one object the service creates and hands to the parts that count. Served at
 * `GET /metrics`. Every label value comes from a closed set (dialect and grant names known to the
 * deployment, OAuth error codes, fixed reasons); none is request input or a secret.
 */
import { Counter, Gauge, Histogram, Registry, type Labels } from './registry.ts';

export type GaugeReader = () => ReadonlyArray<readonly [Labels, number]>;

export class Metrics {
  readonly registry = new Registry();
  /** Token requests by dialect, grant and result (`ok` or the OAuth error code). */
  readonly tokens = this.registry.add(new Counter('keymint_token_requests_total', 'Token requests by dialect, grant and result.'));
  readonly authFailures = this.registry.add(new Counter('keymint_auth_failures_total', 'Failed client authentications by reason.'));
  /** 429s by scope (ip, client, lockout). */
  readonly rateLimited = this.registry.add(new Counter('keymint_rate_limited_total', 'Requests refused with 429, by limit.'));
  /** 503s by cause (shed_inflight, shed_event_loop, dependency). */
  readonly unavailable = this.registry.add(new Counter('keymint_unavailable_total', 'Requests refused with 503, by cause.'));
  readonly latency = this.registry.add(
    new Histogram('keymint_token_request_duration_seconds', 'Token request latency by dialect.', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]),
  );
  /** Repository calls that reach the store (below the client cache). */
  readonly storeRoundTrips = this.registry.add(new Counter('keymint_store_round_trips_total', 'Store round-trips (repository calls below the client cache), by repository and operation.'));
  readonly feedMessages = this.registry.add(new Counter('keymint_feed_messages_total', 'Cross-node feed messages received, by channel.'));
  /**
   * Back-channel logout deliveries (BCL-06) by result: `delivered` (a 2xx), or `failed` with the
   * reason: `status` (another answer), `timeout`, `unreachable` (refused address, network error),
   * `alg` (the client's ID token alg is no longer kept), `client` (unknown or inactive).
   */
  readonly backchannelLogouts = this.registry.add(new Counter('keymint_backchannel_logout_total', 'Back-channel logout deliveries by result (delivered, failed) and reason.'));
  /** Expired rows purged, by table (GROW-01). */
  readonly purgedRows = this.registry.add(new Counter('keymint_purged_rows_total', 'Expired rows purged, by table.'));
  /** Purge passes by result: done, behind (batches left for the next pass), skipped (another node purging), failed. */
  readonly purgeRuns = this.registry.add(new Counter('keymint_purge_runs_total', 'Purge passes by result (done, behind, skipped, failed).'));
  readonly purgeDuration = this.registry.add(new Histogram('keymint_purge_duration_seconds', 'Duration of purge passes this process ran.', [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60]));
  /** Epoch seconds of the last purge pass this process ran (0: none yet). */
  purgeLastRun = 0;

  constructor() {
    this.gauge('keymint_purge_last_run_timestamp_seconds', 'When this process last ran a purge pass, epoch seconds (0: never).', () => [[{}, this.purgeLastRun]]);
  }

  /** Registers a gauge read at scrape time (pool size, Redis health, limiter fallback, in-flight). */
  gauge(name: string, help: string, read: GaugeReader): void {
    this.registry.add(new Gauge(name, help, read));
  }

  render(): string {
    return this.registry.render();
  }
}
