/**
 * Charts as server-rendered SVG: no chart library and no client-side drawing. A line chart plots
 * series over a fixed time window; a bar table ranks labelled values as an HTML table (readable by
 * assistive technology as is) with a proportional bar in each row. Colours come from classes in
 * console.css (`s0`…`s7`), so the CSP needs no inline style; every chart also states its latest
 * values in text.
 */
import { html, type Html } from './html.ts';

export interface Series {
  readonly name: string;
  /** Oldest first, one value per step; the last is the latest. */
  readonly values: readonly number[];
}

export interface LineChartOptions {
  /** Unique within the page: ids of the SVG's title and description derive from it. */
  readonly id: string;
  readonly title: string;
  readonly series: readonly Series[];
  /** Seconds between two values. */
  readonly stepSeconds: number;
  /** Unit after each value, e.g. "/s" or " ms". */
  readonly unit: string;
}

const W = 480;
const H = 200;
const LEFT = 48;
const RIGHT = 12;
const TOP = 10;
const BOTTOM = 24;
const COLOURS = 8;

export const formatValue = (v: number): string =>
  !Number.isFinite(v) ? '–' : Number.isInteger(v) || Math.abs(v) >= 100 ? String(Math.round(v)) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2).replace(/\.?0+$/, '') || '0';

/** The smallest 1, 2 or 5 × 10ⁿ at or above `max` (at least 1), so gridlines fall on round values. */
export function niceCeiling(max: number): number {
  if (!(max > 1)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * magnitude >= max) return m * magnitude;
  return 10 * magnitude;
}

/** SVG polyline points of one series in the plot area, the newest at the right edge. */
export function points(values: readonly number[], slots: number, ceiling: number): string {
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const step = slots > 1 ? plotW / (slots - 1) : 0;
  const offset = slots - values.length;
  return values
    .map((v, i) => {
      const x = LEFT + (offset + i) * step;
      const y = TOP + plotH - (Math.max(0, Math.min(v, ceiling)) / ceiling) * plotH;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

export function lineChart(o: LineChartOptions): Html {
  const slots = Math.max(2, ...o.series.map((s) => s.values.length));
  const ceiling = niceCeiling(Math.max(0, ...o.series.flatMap((s) => s.values.filter(Number.isFinite))));
  const plotH = H - TOP - BOTTOM;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const span = (slots - 1) * o.stepSeconds;
  const latest = o.series.map((s) => `${s.name} ${formatValue(s.values.at(-1) ?? 0)}${o.unit}`).join(', ');
  return html`<figure class="chart" id="${o.id}">
<figcaption id="${o.id}-title">${o.title}</figcaption>
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${o.id}-title ${o.id}-desc" focusable="false">
<desc id="${o.id}-desc">${o.series.length === 0 ? 'No data yet.' : `Last ${span} seconds. Latest: ${latest}.`}</desc>
${ticks.map((t) => {
  const y = TOP + plotH - t * plotH;
  return html`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${y}" y2="${y}"/><text class="axis" x="${LEFT - 6}" y="${y + 4}" text-anchor="end">${formatValue(t * ceiling)}</text>`;
})}
<text class="axis" x="${LEFT}" y="${H - 6}">−${span}s</text><text class="axis" x="${W - RIGHT}" y="${H - 6}" text-anchor="end">now</text>
${o.series.map((s, i) => html`<polyline class="line s${i % COLOURS}" data-series="${s.name}" points="${points(s.values, slots, ceiling)}"/>`)}
</svg>
${o.series.length === 0
  ? html`<p class="empty">No data yet.</p>`
  : html`<ul class="legend">${o.series.map((s, i) => html`<li class="s${i % COLOURS}"><span>${s.name}: ${formatValue(s.values.at(-1) ?? 0)}${o.unit}</span></li>`)}</ul>`}
</figure>`;
}

export interface Bar {
  readonly label: Html | string;
  readonly value: number;
}

export interface BarTableOptions {
  readonly id: string;
  readonly title: string;
  readonly labelHeading: string;
  readonly valueHeading: string;
  readonly bars: readonly Bar[];
  readonly empty: string;
}

/** A ranked table; the bar in each row is decoration (aria-hidden) beside the number it draws. */
export function barTable(o: BarTableOptions): Html {
  const max = Math.max(1, ...o.bars.map((b) => b.value));
  return html`<figure class="chart" id="${o.id}">
<figcaption id="${o.id}-title">${o.title}</figcaption>
${o.bars.length === 0
  ? html`<p class="empty">${o.empty}</p>`
  : html`<div class="table-wrap"><table aria-labelledby="${o.id}-title">
<thead><tr><th scope="col">${o.labelHeading}</th><th scope="col" class="num">${o.valueHeading}</th><th scope="col"><span class="visually-hidden">Share</span></th></tr></thead>
<tbody>${o.bars.map((b) => html`<tr><td>${b.label}</td><td class="num">${formatValue(b.value)}</td><td><svg width="160" height="12" viewBox="0 0 160 12" aria-hidden="true" focusable="false"><rect class="s0" x="0" y="1" height="10" width="${((b.value / max) * 160).toFixed(1)}" rx="2"/></svg></td></tr>`)}</tbody>
</table></div>`}
</figure>`;
}
