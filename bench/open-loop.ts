/**
 * An open-loop load generator: requests arrive at a fixed rate whether or not earlier ones were
 * answered (as independent callers on the internet do), each abandoned after `deadlineMs` counted
 * from its arrival; a caller arriving while all `sockets` connections are busy fails at once. Goodput counts 200s answered within the deadline. Closed-loop tools (a fixed set
 * of connections, each waiting for its answer) cannot show overload collapse, because they slow
 * down with the server.
 *
 * Raw keep-alive sockets with a pre-serialised request and a minimal response parser keep the
 * generator cheap: on a 2-core machine it must leave the server most of a core.
 */
import { connect, type Socket } from 'node:net';

export interface OpenLoopResult {
  readonly offeredPerSec: number;
  readonly goodputPerSec: number;
  readonly shedPerSec: number;
  readonly timedOutPerSec: number;
}

interface Conn {
  readonly socket: Socket;
  buf: Buffer;
  /** Arrival time of the request on this connection, or undefined when idle. */
  busySince: number | undefined;
}

export async function openLoop(url: string, headers: Record<string, string>, body: string, ratePerSec: number, seconds: number, deadlineMs = 1000, sockets = 512): Promise<OpenLoopResult> {
  const target = new URL(url);
  const head = Object.entries({ host: target.host, 'content-length': String(Buffer.byteLength(body)), ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const wire = Buffer.from(`POST ${target.pathname} HTTP/1.1\r\n${head}\r\n${body}`);
  let sent = 0;
  let good = 0;
  let shed = 0;
  let late = 0;
  const idle: Conn[] = [];
  const conns: Conn[] = [];
  const send = (c: Conn, arrival: number) => {
    c.busySince = arrival;
    c.socket.write(wire);
  };
  const onData = (c: Conn, chunk: Buffer) => {
    c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    for (;;) {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const header = c.buf.subarray(0, end).toString('latin1');
      const length = Number(/content-length: *(\d+)/i.exec(header)?.[1] ?? 0);
      if (c.buf.length < end + 4 + length) return;
      c.buf = c.buf.subarray(end + 4 + length);
      const status = header.slice(9, 12);
      const inTime = c.busySince !== undefined && performance.now() - c.busySince <= deadlineMs;
      if (!inTime) late++;
      else if (status === '200') good++;
      else if (status === '503') shed++;
      c.busySince = undefined;
      idle.push(c);
    }
  };
  await Promise.all(
    Array.from({ length: sockets }, () =>
      new Promise<void>((resolve) => {
        const socket = connect({ host: target.hostname, port: Number(target.port) }, resolve);
        const c: Conn = { socket, buf: Buffer.alloc(0), busySince: undefined };
        socket.setNoDelay(true);
        socket.on('data', (d: Buffer) => onData(c, d));
        socket.on('error', () => {});
        conns.push(c);
        idle.push(c);
      }),
    ),
  );
  const tickMs = 5;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      // Arrivals due by now, including ticks the generator was too busy to run.
      const due = Math.floor(((now - started) / 1000) * ratePerSec);
      for (; sent < due; sent++) {
        // A caller that finds every connection busy is one the server has no room for: it fails
        // at once (a client-side queue would only turn later answers into late ones).
        const c = idle.pop();
        if (c) send(c, now);
        else late++;
      }
      if (now - started >= seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, tickMs);
  });
  await new Promise((r) => setTimeout(r, deadlineMs));
  late += conns.filter((c) => c.busySince !== undefined).length;
  for (const c of conns) c.socket.destroy();
  return { offeredPerSec: Math.round(sent / seconds), goodputPerSec: Math.round(good / seconds), shedPerSec: Math.round(shed / seconds), timedOutPerSec: Math.round(late / seconds) };
}
