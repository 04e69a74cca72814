/**
 * An in-process TCP proxy between Keymint and a real PostgreSQL or Redis, to simulate outages
 * without touching the machine's servers (which other suites use): `cut` drops every connection and
 * refuses new ones, `hang` keeps connections open but forwards nothing, `resume` restores service.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  cut(): void;
  hang(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: 'pass' | 'cut' | 'hang' = 'pass';
  const pairs = new Set<[Socket, Socket | undefined]>();
  const server = createServer((client) => {
    if (mode === 'cut') return void client.destroy();
    if (mode === 'hang') {
      const pair: [Socket, undefined] = [client, undefined];
      pairs.add(pair);
      client.on('error', () => {});
      client.on('close', () => pairs.delete(pair));
      return;
    }
    const upstream = connect({ host: targetHost, port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (d) => {
      if (mode === 'pass') upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (mode === 'pass') client.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      mode = 'cut';
      for (const [a, b] of pairs) {
        a.destroy();
        b?.destroy();
      }
      pairs.clear();
    },
    hang() {
      mode = 'hang';
    },
    resume() {
      // Connections opened while hung never forwarded anything: drop them so clients reconnect.
      if (mode === 'hang') {
        for (const [a, b] of pairs) {
          a.destroy();
          b?.destroy();
        }
        pairs.clear();
      }
      mode = 'pass';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b?.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
