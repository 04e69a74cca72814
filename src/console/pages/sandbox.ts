/**
 * The sandbox panel (sandbox mode only): the sandbox's clock with its offset, the faults in force
 * with their counters, the form that adds one, and the recent request record; for admins the forms
 * that change them (each a POST with the CSRF token). The form's fields are the fault's own
 * (`status`, `times`, `latencyMs`, …), so the sandbox's error naming a field lands beside it.
 */
import { canChange, csrfField, layout, type PageContext } from './layout.ts';
import { checkbox, errorSummary, input, select, type FormErrors } from './forms.ts';
import { html, type Html } from './html.ts';
import { paths } from './paths.ts';
import type { FaultState, RecordedRequest } from '../../wire/sandbox.ts';

/** A fault as the panel shows it: its id and counters; every other field of the object is its spec. */
export type SandboxFaultView = FaultState;

/** One request of the sandbox's record. */
export type SandboxRequestView = RecordedRequest;

/** The add-fault form as typed (every value a string; `drop` is `on` when ticked). */
export type FaultFormValues = Readonly<Record<(typeof FAULT_FIELDS)[number], string>>;

export interface ClockFormValues {
  readonly amount: string;
  readonly unit: string;
}

export interface SandboxView {
  readonly clock: { readonly offsetMs: number; readonly now: string };
  readonly startOffsetMs: number;
  readonly faults: readonly SandboxFaultView[];
  /** Newest first, at most `RECENT_REQUESTS`. */
  readonly requests: readonly SandboxRequestView[];
  /** How many requests the record holds in all. */
  readonly recorded: number;
  readonly dialects: readonly string[];
  readonly statuses: readonly number[];
  readonly endpoints: readonly string[];
  readonly fault?: FaultFormValues;
  readonly faultErrors?: FormErrors;
  readonly clockForm?: ClockFormValues;
  readonly clockErrors?: FormErrors;
}

export const RECENT_REQUESTS = 50;

/** The fault fields the form has, in the sandbox's spelling. */
export const FAULT_FIELDS = ['dialect', 'client', 'endpoint', 'times', 'fraction', 'status', 'error', 'retryAfter', 'latencyMs', 'jitterMs', 'drop', 'tokenTtl'] as const;
const NUMBERS = new Set<string>(['times', 'fraction', 'status', 'retryAfter', 'latencyMs', 'jitterMs', 'tokenTtl']);

const LABELS: Readonly<Record<string, string>> = {
  dialect: 'Dialect', client: 'Client', endpoint: 'Endpoint', times: 'Times', fraction: 'Fraction', status: 'Answer with status', error: 'Answer with error',
  retryAfter: 'Retry after (seconds)', latencyMs: 'Latency (ms)', jitterMs: 'Jitter (ms)', drop: 'Drop the connection', tokenTtl: 'Token lifetime (seconds)',
  amount: 'Amount', unit: 'Unit',
};

export const CLOCK_UNITS: Readonly<Record<string, number>> = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 };

export const emptyFaultForm = (): FaultFormValues => Object.fromEntries(FAULT_FIELDS.map((f) => [f, ''])) as FaultFormValues;

export function faultFormFromBody(form: URLSearchParams): FaultFormValues {
  return Object.fromEntries(FAULT_FIELDS.map((f) => [f, (form.get(f) ?? '').trim().slice(0, 200)])) as FaultFormValues;
}

/**
 * The fault the form describes, as the control API's JSON would carry it: empty fields left out,
 * numbers as numbers, `drop` as true. Nothing is judged here: what a value may be is the sandbox's
 * to say (a value that is not a number goes as typed, and the sandbox names the field).
 */
export function faultSpecOf(values: FaultFormValues): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const f of FAULT_FIELDS) {
    const v = values[f];
    if (v === '') continue;
    if (f === 'drop') spec.drop = v === 'on';
    else spec[f] = NUMBERS.has(f) && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  return spec;
}

/** `+1 d 2 h 5 min` (seconds only when the offset has no larger part), or `0`. */
export function formatOffset(ms: number): string {
  if (ms === 0) return '0';
  const sign = ms < 0 ? '−' : '+';
  let rest = Math.round(Math.abs(ms) / 1000);
  const parts: string[] = [];
  for (const [unit, seconds] of [['d', 86_400], ['h', 3600], ['min', 60]] as const) {
    const n = Math.floor(rest / seconds);
    rest -= n * seconds;
    if (n > 0) parts.push(`${n} ${unit}`);
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest} s`);
  return `${sign}${parts.join(' ')}`;
}

const specText = (f: SandboxFaultView): Html => {
  const entries = Object.entries(f as object).filter(([k, v]) => k !== 'id' && k !== 'remaining' && k !== 'fired' && v !== undefined);
  return html`${entries.map(([k, v], i) => html`${i > 0 && ', '}<code>${k}: ${String(v)}</code>`)}`;
};

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function clockSection(ctx: PageContext, view: SandboxView): Html {
  const form = view.clockForm ?? { amount: '1', unit: 'hours' };
  return html`<section class="card" aria-labelledby="clock-h"><h2 id="clock-h">Clock</h2>
<dl class="props">
<dt>Sandbox time</dt><dd class="mono" data-sandbox="now">${when(view.clock.now)}</dd>
<dt>Offset from this machine</dt><dd data-sandbox="offset">${formatOffset(view.clock.offsetMs)} <span class="hint">(${view.clock.offsetMs} ms)</span></dd>
<dt>Offset at start</dt><dd>${formatOffset(view.startOffsetMs)}</dd>
</dl>
<p class="hint">Every expiry Keymint decides (tokens, refresh, introspection, keys) follows this clock. Console sign-ins follow the machine's.</p>
${canChange(ctx) && html`${errorSummary(view.clockErrors, LABELS)}
<form method="post" action="${paths.sandboxClockAdvance}" class="filters">
${csrfField(ctx)}
${input({ name: 'amount', label: 'Advance by', type: 'number', value: form.amount, hint: 'Negative moves it back.', required: true, errors: view.clockErrors })}
${select({ name: 'unit', label: 'Unit', value: form.unit, choices: Object.keys(CLOCK_UNITS).map((u) => ({ value: u, label: u })), errors: view.clockErrors })}
<div class="field"><button type="submit" class="primary">Advance the clock</button></div>
</form>
<div class="actions"><form method="post" action="${paths.sandboxClockReset}">${csrfField(ctx)}<button type="submit">Reset the clock to its start</button></form></div>`}
</section>`;
}

function faultsSection(ctx: PageContext, view: SandboxView): Html {
  return html`<section class="card" aria-labelledby="faults-h"><div class="page-head"><h2 id="faults-h">Faults in force</h2>
${canChange(ctx) && view.faults.length > 0 && html`<form method="post" action="${paths.sandboxFaultsClear}">${csrfField(ctx)}<button type="submit" class="danger">Remove all faults</button></form>`}</div>
${view.faults.length === 0
  ? html`<p class="empty">No faults: every request is answered as it would be.</p>`
  : html`<div class="table-wrap"><table id="faults"><caption class="visually-hidden">Faults in force</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Spec</th><th scope="col" class="num">Fired</th><th scope="col" class="num">Remaining</th>${canChange(ctx) && html`<th scope="col"><span class="visually-hidden">Actions</span></th>`}</tr></thead>
<tbody>${view.faults.map((f) => html`<tr data-fault="${f.id}"><td class="nowrap"><code>${f.id}</code></td><td>${specText(f)}</td><td class="num">${f.fired}</td><td class="num">${f.remaining === null ? '∞' : f.remaining}</td>
${canChange(ctx) && html`<td><form method="post" action="${paths.sandboxFaultRemove(f.id)}">${csrfField(ctx)}<button type="submit">Remove<span class="visually-hidden"> fault ${f.id}</span></button></form></td>`}</tr>`)}</tbody>
</table></div>`}
</section>`;
}

function addFaultSection(ctx: PageContext, view: SandboxView): Html | '' {
  if (!canChange(ctx)) return '';
  const v = view.fault ?? emptyFaultForm();
  const e = view.faultErrors;
  const any = { value: '', label: 'any' };
  return html`<section class="card" aria-labelledby="add-fault-h"><h2 id="add-fault-h">Add a fault</h2>
${errorSummary(e, LABELS)}
<form method="post" action="${paths.sandboxFaults}">
${csrfField(ctx)}
<p class="hint">Fields left empty match every request or do nothing. A fault needs at least one action: a status or an error, latency, a drop, or a token lifetime.</p>
<fieldset><legend>Which requests</legend><div class="grid-2">
${select({ name: 'dialect', label: LABELS.dialect!, value: v.dialect, choices: [any, ...view.dialects.map((d) => ({ value: d, label: d }))], errors: e })}
${input({ name: 'client', label: LABELS.client!, value: v.client, hint: 'A declared client name or a client id.', spellcheck: false, errors: e })}
${select({ name: 'endpoint', label: LABELS.endpoint!, value: v.endpoint, choices: [any, ...view.endpoints.map((d) => ({ value: d, label: d }))], errors: e })}
${input({ name: 'times', label: LABELS.times!, type: 'number', min: 1, value: v.times, hint: 'The next N matching requests; empty: until removed.', errors: e })}
${input({ name: 'fraction', label: LABELS.fraction!, value: v.fraction, hint: 'A share of matching requests, 0 < f ≤ 1 (drawn from the seed).', errors: e })}
</div></fieldset>
<fieldset><legend>What it does</legend><div class="grid-2">
${select({ name: 'status', label: LABELS.status!, value: v.status, choices: [{ value: '', label: 'none' }, ...view.statuses.map((s) => ({ value: String(s), label: String(s) }))], hint: 'In the dialect’s own shape and headers.', errors: e })}
${input({ name: 'error', label: LABELS.error!, value: v.error, hint: 'A canonical code, e.g. invalid_grant.', spellcheck: false, errors: e })}
${input({ name: 'retryAfter', label: LABELS.retryAfter!, type: 'number', min: 1, value: v.retryAfter, hint: 'For a 429 or 503; default 1.', errors: e })}
${input({ name: 'latencyMs', label: LABELS.latencyMs!, type: 'number', min: 0, value: v.latencyMs, errors: e })}
${input({ name: 'jitterMs', label: LABELS.jitterMs!, type: 'number', min: 0, value: v.jitterMs, errors: e })}
${input({ name: 'tokenTtl', label: LABELS.tokenTtl!, type: 'number', min: 1, value: v.tokenTtl, hint: 'Access tokens this long instead of the client’s lifetime.', errors: e })}
${checkbox({ name: 'drop', label: LABELS.drop!, checked: v.drop === 'on', errors: e })}
</div></fieldset>
<div class="actions"><button type="submit" class="primary">Add the fault</button></div>
</form>
</section>`;
}

function requestsSection(ctx: PageContext, view: SandboxView): Html {
  return html`<section class="card" aria-labelledby="requests-h"><div class="page-head"><h2 id="requests-h">Recent requests</h2>
${canChange(ctx) && view.recorded > 0 && html`<form method="post" action="${paths.sandboxRequestsClear}">${csrfField(ctx)}<button type="submit">Clear the record</button></form>`}</div>
<p>${view.recorded === 0 ? 'No requests recorded.' : `The ${Math.min(view.recorded, RECENT_REQUESTS)} newest of ${view.recorded} recorded, newest first; all are at `}${view.recorded > 0 && html`<a href="/_sandbox/requests">/_sandbox/requests</a>.`}</p>
${view.requests.length > 0 && html`<div class="table-wrap"><table id="requests"><caption class="visually-hidden">Recent requests</caption>
<thead><tr><th scope="col">When (sandbox time)</th><th scope="col">Request</th><th scope="col">Client</th><th scope="col">Grant</th><th scope="col" class="num">Status</th><th scope="col">Outcome</th><th scope="col">Faults</th></tr></thead>
<tbody>${view.requests.map((r) => html`<tr><td class="mono">${when(r.at)}</td><td><code>${r.method} ${r.path}</code> <span class="hint">${r.dialect} ${r.endpoint}</span></td><td>${r.client ?? (r.clientId === null ? html`<span class="empty">—</span>` : html`<code>${r.clientId}</code>`)}</td><td>${r.grant ?? '—'}</td><td class="num">${r.status === 0 ? '—' : r.status}</td><td class="nowrap"><code>${r.outcome}</code></td><td>${r.faults.length === 0 ? '—' : r.faults.join(', ')}</td></tr>`)}</tbody>
</table></div>`}
</section>`;
}

export function sandboxPage(ctx: PageContext, view: SandboxView): string {
  const body = html`<div class="page-head"><h1>Sandbox</h1>
${canChange(ctx) && html`<form method="post" action="${paths.sandboxReset}">${csrfField(ctx)}<button type="submit">Reset the sandbox</button></form>`}</div>
<p>This server is a sandbox: scripted faults and a movable clock, for client integration tests. The same controls are at <a href="/_sandbox">/_sandbox</a> as JSON. Resetting puts the faults back to the sandbox file's, the clock to its start and empties the record.</p>
${clockSection(ctx, view)}
${faultsSection(ctx, view)}
${addFaultSection(ctx, view)}
${requestsSection(ctx, view)}`;
  return layout(ctx, { title: 'Sandbox', section: 'sandbox', body });
}
