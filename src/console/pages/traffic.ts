/**
 * Live traffic: tokens per second by dialect, the top clients by volume, refusals by reason, 429s
 * and 503s, and p50/p99 latency, as server-rendered SVG. The charts sit in one region that
 * console.js replaces with a fresh rendering every few seconds (pausable); without the script the
 * page is a snapshot that a reload refreshes.
 */
import { layout, type PageContext } from './layout.ts';
import { barTable, formatValue, lineChart, type Series } from './chart.ts';
import { html } from './html.ts';
import { paths } from './paths.ts';

export interface TrafficView {
  /** Seconds between two points of every series. */
  readonly stepSeconds: number;
  /** How many nodes the figures sum (1: this node only). */
  readonly nodes: number;
  /** Tokens issued per second, one series per dialect. */
  readonly tokensByDialect: readonly Series[];
  /** Clients by tokens issued over the window, largest first (at most 20 shown). */
  readonly topClients: ReadonlyArray<{ readonly clientId: string; readonly name?: string; readonly tokens: number }>;
  /** Refused token requests over the window, by OAuth error code or reason. */
  readonly refusals: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
  /** Answers per second with status 429 and 503. */
  readonly throttled: readonly number[];
  readonly shed: readonly number[];
  /** Token-endpoint latency percentiles per step, milliseconds. */
  readonly latency: { readonly p50: readonly number[]; readonly p99: readonly number[] };
}

export const TRAFFIC_REFRESH_SECONDS = 3;
export const TOP_CLIENTS = 20;
/** The headline figures average (tokens) or take the highest (p99) over this many recent seconds. */
export const RECENT_SECONDS = 10;

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

export function trafficCharts(view: TrafficView) {
  const step = view.stepSeconds;
  const recent = Math.max(1, Math.round(RECENT_SECONDS / step));
  const tokens = view.tokensByDialect.map((s) => s.values.slice(-recent));
  const rate = sum(tokens.map(sum)) / recent;
  const p99 = Math.max(0, ...view.latency.p99.slice(-recent));
  return html`<div class="stats">
<div class="card"><div>Tokens per second, last ${RECENT_SECONDS} s</div><div class="stat" data-stat="tokens-per-second">${formatValue(rate)}</div></div>
<div class="card"><div>429 answers, window</div><div class="stat" data-stat="throttled">${formatValue(sum(view.throttled) * step)}</div></div>
<div class="card"><div>503 answers, window</div><div class="stat" data-stat="shed">${formatValue(sum(view.shed) * step)}</div></div>
<div class="card"><div>Highest p99 latency, last ${RECENT_SECONDS} s</div><div class="stat" data-stat="p99">${formatValue(p99)} ms</div></div>
</div>
<div class="charts">
<div class="card">${lineChart({ id: 'chart-tokens', title: 'Tokens per second by dialect', series: view.tokensByDialect, stepSeconds: step, unit: '/s' })}</div>
<div class="card">${lineChart({ id: 'chart-latency', title: 'Token endpoint latency (ms)', series: [{ name: 'p50', values: view.latency.p50 }, { name: 'p99', values: view.latency.p99 }], stepSeconds: step, unit: ' ms' })}</div>
<div class="card">${lineChart({ id: 'chart-refused', title: '429 and 503 answers per second', series: [{ name: '429 rate limited', values: view.throttled }, { name: '503 shed or unavailable', values: view.shed }], stepSeconds: step, unit: '/s' })}</div>
<div class="card">${barTable({
    id: 'chart-refusals', title: 'Refusals by reason', labelHeading: 'Reason', valueHeading: 'Count', empty: 'No refusals in the window.',
    bars: view.refusals.map((r) => ({ label: html`<code>${r.reason}</code>`, value: r.count })),
  })}</div>
</div>
<div class="card">${barTable({
    id: 'chart-clients', title: `Top ${TOP_CLIENTS} clients by tokens issued`, labelHeading: 'Client', valueHeading: 'Tokens', empty: 'No tokens issued in the window.',
    bars: view.topClients.slice(0, TOP_CLIENTS).map((c) => ({ label: html`<a href="${paths.client(c.clientId)}">${c.name ?? c.clientId}</a>${c.name !== undefined && html` <code>${c.clientId}</code>`}`, value: c.tokens })),
  })}</div>`;
}

export function trafficPage(ctx: PageContext, view: TrafficView): string {
  const window = Math.max(0, ...view.tokensByDialect.map((s) => s.values.length), view.latency.p50.length) * view.stepSeconds;
  const body = html`<div class="page-head"><h1>Traffic</h1>
<div class="refresh"><span data-refresh-stamp="traffic-live" aria-live="off">Every ${TRAFFIC_REFRESH_SECONDS} s</span>
<button type="button" data-refresh-toggle="traffic-live" aria-pressed="false" hidden>Pause updates</button></div></div>
<p>${view.nodes === 1 ? 'This node' : `Summed over ${view.nodes} nodes`}, the last ${window} seconds. Figures are also at <a href="${paths.trafficJson}">${paths.trafficJson}</a> as JSON.</p>
<section id="traffic-live" data-refresh="${TRAFFIC_REFRESH_SECONDS}" aria-label="Live traffic figures">
${trafficCharts(view)}
</section>`;
  return layout(ctx, { title: 'Traffic', section: 'traffic', body, script: true });
}
