/** The traffic window as the traffic page charts it: a series per dialect, the top clients with their names. */
import type { TrafficView as ChartView } from './pages/index.ts';
import type { TrafficView } from './traffic.ts';

export async function chartView(v: TrafficView, names: { clientName(id: string): Promise<string | undefined> }): Promise<ChartView> {
  const dialects = [...new Set(v.seconds.flatMap((s) => Object.keys(s.tokens)))].sort();
  const topClients = await Promise.all(
    v.topClients.map(async (c) => {
      const name = await names.clientName(c.client_id);
      return { clientId: c.client_id, tokens: c.tokens, ...(name === undefined ? {} : { name }) };
    }),
  );
  return {
    stepSeconds: 1,
    nodes: v.nodes,
    tokensByDialect: dialects.map((d) => ({ name: d, values: v.seconds.map((s) => s.tokens[d] ?? 0) })),
    topClients,
    refusals: Object.entries(v.refusals)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, count]) => ({ reason, count })),
    throttled: v.seconds.map((s) => s.s429),
    shed: v.seconds.map((s) => s.s503),
    latency: { p50: v.seconds.map((s) => s.p50 ?? 0), p99: v.seconds.map((s) => s.p99 ?? 0) },
  };
}
