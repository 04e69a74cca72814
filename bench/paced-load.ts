/**
 * An open-loop paced load generator (wrk2 is not packaged; autocannon's rate limit sends each
 * second's quota in a burst): `node bench/paced-load.ts SPEC_JSON` with `{url, headers, body,
 * connections, rate, seconds, warmup?, trace?}` sends `rate` requests per second at even intervals
 * over at most `connections` keep-alive sockets: `warmup` seconds that are sent but not counted, then
 * `seconds` measured, rate × seconds requests (with `bodies`, each request sends the next of them).
 * Latency runs from each request's scheduled send time, so a stalled server is not hidden (no
 * coordinated omission); a request whose turn comes while every connection is busy waits for one,
 * and that wait counts. Plain sockets and a hand-written response reader keep the generator's own
 * cost low.
 *
 * The generator must not pause itself, since its pauses count as latency: it sleeps between sends
 * (Atomics.wait, at most WAIT_MS at a time, so an answer is read at most that late) instead of
 * spinning on setImmediate. A spinning generator held its core at 100 %, so the probe generator
 * beside it waited for the core, and its promise per turn made garbage enough for a scavenge every
 * 15 ms. The warm-up keeps its start (process, JIT, the probe starting beside it) out of the figures.
 *
 * The generator also measures itself: `lag` is how late it actually wrote each request after its
 * scheduled time while a connection was free, and `pauses` are the gaps between its own turns over
 * 1 ms (preempted, or its GC): a server stall shows in latency but not in lag or pauses; a generator
 * stall shows in all three. Prints one JSON line with counts, percentiles (ms) and a latency
 * histogram; with `trace`, also writes one line per measured request to that file: scheduled time
 * (ms from the start), how late it was sent, how late it was answered.
 */
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { summarize } from './latency.ts';

/** `bodies`, when given, are sent in turn instead of `body` (many clients, many tokens). */
interface Spec { url: string; headers: Record<string, string>; body: string; bodies?: string[]; connections: number; rate: number; seconds: number; warmup?: number; trace?: string }
const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const url = new URL(spec.url);
if (url.hostname !== '127.0.0.1') throw new Error(`refusing to load anything but 127.0.0.1: ${spec.url}`);
/** Longest sleep between turns, ms: how late an answer can be read. */
const WAIT_MS = 0.1;
/** A gap between the generator's turns longer than this is a pause of its own, ms. */
const PAUSE_MS = 1;
const warm = Math.floor(spec.rate * (spec.warmup ?? 0));
const measured = Math.floor(spec.rate * spec.seconds);
const total = warm + measured;
const wireOf = (body: string) => {
  const head = Object.entries({ host: url.host, 'content-length': String(Buffer.byteLength(body)), ...spec.headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return Buffer.from(`POST ${url.pathname} HTTP/1.1\r\n${head}\r\n${body}`);
};
const wires = (spec.bodies?.length ? spec.bodies : [spec.body]).map(wireOf);
let nextWire = 0;

const interval = 1000 / spec.rate;
/** Set when the connections are open. */
let start = 0;
const scheduledAt = (i: number) => start + i * interval;

/** Per measured request (index − warm): when it was written and answered, ms. */
const sentAt = new Float64Array(measured);
const answeredAt = new Float64Array(measured).fill(NaN);
const lags = new Float64Array(measured);
let lagged = 0;
let answered = 0;
let ok = 0;
/** Non-2xx answers. */
let failed = 0;
/** Requests whose connection failed under them. */
let lost = 0;
const statuses: Record<string, number> = {};

interface Conn {
  readonly socket: Socket;
  buf: Buffer;
  /** Index of the request in flight, or -1 when idle. */
  inFlight: number;
}

const idle: Conn[] = [];
/** Requests (indices) whose turn came while every connection was busy, oldest first. */
const waiting: number[] = [];
let waitHead = 0;

function send(c: Conn, i: number, now: number): void {
  c.inFlight = i;
  if (i >= warm) sentAt[i - warm] = now;
  c.socket.write(wires[nextWire++ % wires.length]!);
}

function finish(c: Conn, status: string): void {
  const i = c.inFlight;
  if (i < 0) return;
  const now = performance.now();
  if (i >= warm) {
    answeredAt[i - warm] = now;
    answered++;
    if (status.startsWith('2')) ok++;
    else {
      failed++;
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }
  c.inFlight = -1;
  if (waitHead < waiting.length) send(c, waiting[waitHead++]!, now);
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
        const c: Conn = { socket, buf: Buffer.alloc(0), inFlight: -1 };
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
    if (c.inFlight >= 0) {
      if (c.inFlight >= warm) lost++;
      c.inFlight = -1;
    }
    // A closed connection is never handed out again: a request written to it would get no answer
    // and no error, and the round would wait for it until its deadline.
    const at = idle.indexOf(c);
    if (at >= 0) idle.splice(at, 1);
  });
  idle.push(c);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const pauses: number[] = [];
let sent = 0;
let lastTurn = 0;
start = performance.now() + 20;
await new Promise<void>((done) => {
  // One turn: send what is due, then sleep until the next is due (at most WAIT_MS, so answers are
  // read on time) or, with more than a few ms to go, wait in the event loop (answers wake it).
  const turn = (): void => {
    const now = performance.now();
    if (lastTurn && now - lastTurn > PAUSE_MS && sent > warm) pauses.push(now - lastTurn);
    while (sent < total && scheduledAt(sent) <= now) {
      // The connection idle longest: every connection stays in use, so none sits idle long enough
      // for the server's keep-alive timeout (5 s) to close it at a low rate.
      const c = idle.shift();
      if (!c) waiting.push(sent);
      else {
        if (sent >= warm) lags[lagged++] = now - scheduledAt(sent);
        send(c, sent, now);
      }
      sent++;
    }
    if (sent >= total) return done();
    const next = scheduledAt(sent) - performance.now();
    if (next > 3) {
      lastTurn = 0; // a wait in the event loop is not a pause
      setTimeout(turn, Math.floor(next - 2));
      return;
    }
    if (next > 0) Atomics.wait(sleeper, 0, 0, Math.min(WAIT_MS, next));
    lastTurn = performance.now();
    setImmediate(turn);
  };
  setTimeout(turn, 20);
});
const deadline = performance.now() + 10_000;
while (answered + lost < measured && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
const elapsed = (performance.now() - scheduledAt(warm)) / 1000;
failed += measured - answered; // lost with their connection, or unanswered by the deadline
for (const c of conns) c.socket.destroy();
const latencies = new Float64Array(answered);
for (let i = 0, n = 0; i < measured; i++) if (!Number.isNaN(answeredAt[i]!)) latencies[n++] = answeredAt[i]! - scheduledAt(warm + i);
if (spec.trace) {
  const rows: string[] = [];
  for (let i = 0; i < measured; i++) {
    const at = scheduledAt(warm + i);
    rows.push(`${(at - scheduledAt(warm)).toFixed(3)} ${(sentAt[i]! - at).toFixed(3)} ${(answeredAt[i]! - at).toFixed(3)}`);
  }
  writeFileSync(spec.trace, `${rows.join('\n')}\n`);
}
const lat = summarize(latencies);
const lag = summarize(lags.subarray(0, lagged));
const paused = { count: pauses.length, totalMs: pauses.reduce((a, b) => a + b, 0), maxMs: pauses.length ? Math.max(...pauses) : 0 };
// `origin`: epoch ms of the first measured request's scheduled time (a trace's zero), to line it up with other events.
const origin = performance.timeOrigin + scheduledAt(warm);
process.stdout.write(`${JSON.stringify({ ok, failed, lost, seconds: elapsed, p50: lat.p50, p99: lat.p99, max: lat.max, latency: lat, lag, pauses: paused, statuses, origin })}\n`);
