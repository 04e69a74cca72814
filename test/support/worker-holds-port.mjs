// Preloaded (node --import) into `keymint serve --workers N` by a test: each cluster worker first
// binds KEYMINT_TEST_HOLD_PORT on 127.0.0.1 by itself, outside the cluster, so the primary's bind of
// that port for the workers fails for real with EADDRINUSE, after the primary's own check passed.
// Nothing else about the process changes; the primary and processes outside a cluster ignore it.
import cluster from 'node:cluster';
import { createServer } from 'node:net';

if (cluster.isWorker) {
  const held = createServer();
  held.on('error', () => {}); // the other workers find it held by the first: all the same
  held.listen({ port: Number(process.env.KEYMINT_TEST_HOLD_PORT), host: '127.0.0.1', exclusive: true });
  held.unref();
}
