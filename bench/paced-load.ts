/**
 * An open-loop paced load generator (wrk2 is not packaged; autocannon's rate limit sends each
 * second's quota in a burst): `node bench/paced-load.ts SPEC_JSON` with `{url, headers, body,
 * connections, rate, seconds}` sends `rate` requests per second at even intervals over at most
 * `connections` keep-alive sockets for `seconds`, at most rate × seconds requests in all (with
 * `bodies`, each request sends the next of them). Latency runs
 * from each request's scheduled send time, so a stalled server is not hidden (no coordinated
 * omission); a request whose turn comes while every connection is busy waits for one, and that wait
 * counts. Plain sockets and a hand-written response reader keep the generator's own cost low.
 *
 * The generator also measures itself: `lag` is how late it actually wrote each request after its
 * scheduled time while a connection was free, i.e. its own event-loop pauses. A server stall shows in
 * latency but not in lag; a generator stall shows in both. Prints one JSON line with counts,
 * percentiles (ms) and a latency histogram.
 */
import { connect, type Socket } from 'node:net';
import { summarize } from './latency.ts';

/** `bodies`, when given, are sent in turn instead of `body` (many clients, many tokens). */
interface Spec { url: string; headers: Record<string, string>; body: string; bodies?: string[]; connections: number; rate: number; seconds: number }
const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const url = new URL(spec.url);
if (url.hostname !== '127.0.0.1') throw new Error(`refusing to load anything but 127.0.0.1: ${spec.url}`);
const total = Math.floor(spec.rate * spec.seconds);
const wireOf = (body: string) => {
  const head = Object.entries({ host: url.host, 'content-length': String(Buffer.byteLength(body)), ...spec.headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return Buffer.from(`POST ${url.pathname} HTTP/1.1\r\n${head}\r\n${body}`);
};
const wires = (spec.bodies?.length ? spec.bodies : [spec.body]).map(wireOf);
let nextWire = 0;

const latencies = new Float64Array(total);
const lags = new Float64Array(total);
let answered = 0;
let lagged = 0;
let ok = 0;
/** Non-2xx answers. */
let failed = 0;
/** Requests whose connection failed under them. */
let lost = 0;
const statuses: Record<string, number> = {};

interface Conn {
  readonly socket: Socket;
  buf: Buffer;
  /** Scheduled time of the request in flight, or undefined when idle. */
  scheduled: number | undefined;
}

const idle: Conn[] = [];
/** Scheduled times of requests waiting for a free connection. */
const waiting: number[] = [];
let waitHead = 0;

function send(c: Conn, scheduled: number): void {
  c.scheduled = scheduled;
  c.socket.write(wires[nextWire++ % wires.length]!);
}

function finish(c: Conn, status: string): void {
  if (c.scheduled === undefined) return;
  latencies[answered++] = performance.now() - c.scheduled;
  if (status.startsWith('2')) ok++;
  else {
    failed++;
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  c.scheduled = undefined;
  if (waitHead < waiting.length) send(c, waiting[waitHead++]!);
  else idle.push(c);
}

function onData(c: Conn, chunk: Buffer): void {
  c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
  for (;;) {
    const end = c.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const header = c.buf.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(header)?.[1] ?? 0);
    if (c.buf.length < end + 4 + length) return;
    c.buf = c.buf.subarray(end + 4 + length);
    finish(c, header.slice(9, 12));
  }
}

const conns: Conn[] = await Promise.all(
  Array.from(
    { length: Math.max(1, spec.connections) },
    () =>
      new Promise<Conn>((resolve, reject) => {
        const socket = connect({ host: url.hostname, port: Number(url.port) });
        const c: Conn = { socket, buf: Buffer.alloc(0), scheduled: undefined };
        socket.setNoDelay(true);
        socket.on('data', (d: Buffer) => onData(c, d));
        socket.once('connect', () => resolve(c));
        socket.once('error', reject);
      }),
  ),
);
for (const c of conns) {
  c.socket.on('error', () => {});
  c.socket.on('close', () => {
    if (c.scheduled !== undefined) {
      lost++;
      c.scheduled = undefined;
    }
  });
  idle.push(c);
}

const interval = 1000 / spec.rate;
const start = performance.now() + 20;
let sent = 0;
while (sent < total) {
  const now = performance.now();
  while (sent < total && start + sent * interval <= now) {
    const scheduled = start + sent * interval;
    const c = idle.pop();
    if (c) {
      lags[lagged++] = now - scheduled;
      send(c, scheduled);
    } else waiting.push(scheduled);
    sent++;
  }
  const next = start + sent * interval - performance.now();
  await new Promise((r) => (next > 1.5 ? setTimeout(r, Math.floor(next - 0.5)) : setImmediate(r)));
}
const deadline = performance.now() + 10_000;
while (answered + lost < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
const elapsed = (performance.now() - start) / 1000;
failed += total - answered; // lost with their connection, or unanswered by the deadline
for (const c of conns) c.socket.destroy();
const lat = summarize(latencies.subarray(0, answered));
const lag = summarize(lags.subarray(0, lagged));
process.stdout.write(`${JSON.stringify({ ok, failed, seconds: elapsed, p50: lat.p50, p99: lat.p99, max: lat.max, latency: lat, lag, statuses })}\n`);
