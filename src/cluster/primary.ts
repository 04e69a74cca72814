/**
 * The primary of `keymint serve --workers N` (node:cluster): prepares the store once (migrations,
 * KEK, first keys) so workers never race to create them, forks N workers that serve the same port,
 * replaces a worker that dies, and on SIGINT/SIGTERM has every worker drain (stop accepting, finish
 * what is in flight) before it exits. Without Redis it also holds what the workers share: the
 * rate-limit buckets and lockouts, the feed, and the sum of their metrics.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/types.ts';
import { openKeymint } from '../core.ts';
import { MemoryLimiter } from '../limits/memory.ts';
import { mergeExpositions } from '../metrics/merge.ts';
import type { Logger } from '../util/log.ts';
import { isOurs, type PrimaryMessage, type WorkerMessage } from './messages.ts';

/** How long a worker may take to finish its requests in flight before it is killed. */
export const DRAIN_MS = 10_000;
const SCRAPE_MS = 2_000;
/** A worker that dies within this long of the previous death waits longer before it is replaced. */
const CRASH_WINDOW_MS = 10_000;

/** True in the process that should supervise workers rather than serve. */
export const supervises = (config: Pick<Config, 'workers'>): boolean => config.workers > 1 && cluster.isPrimary;

export async function supervise(config: Config, log: Logger): Promise<number> {
  const prepared = await openKeymint({ ...config, logLevel: 'warn' }, { log });
  await prepared.close();

  const limiter = new MemoryLimiter();
  const announced = new Set<number>();
  let listeningLogged = false;
  // Workers whose start failed and that asked to say why; whether one of them has (it says it for all).
  const refused = new Set<number>();
  let refusalSaid = false;
  let stopping = false;
  let restarts = 0;
  let lastCrash = 0;
  let backoffMs = 0;
  let scrapes = 0;
  let exitCode = 0;
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));

  const running = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  const tell = (worker: Worker, message: PrimaryMessage) => {
    if (worker.isConnected()) worker.send(message);
  };
  const everyone = (message: PrimaryMessage, except?: Worker) => {
    for (const w of running()) if (w !== except) tell(w, message);
  };

  const scrape = (asker: Worker, id: number) => {
    const texts: string[] = [];
    const workers = running();
    const round = ++scrapes;
    let waiting = workers.length;
    const done = () => {
      cluster.off('message', onRendered);
      clearTimeout(timer);
      const own = [
        '# HELP keymint_workers Serving processes running now.',
        '# TYPE keymint_workers gauge',
        `keymint_workers ${running().length}`,
        '# HELP keymint_worker_restarts_total Workers that died and were replaced.',
        '# TYPE keymint_worker_restarts_total counter',
        `keymint_worker_restarts_total ${restarts}`,
      ].join('\n');
      tell(asker, { km: 'scraped', id, text: mergeExpositions([...texts, own]) });
    };
    const onRendered = (_w: Worker, message: unknown) => {
      if (!isOurs<WorkerMessage>(message) || message.km !== 'rendered' || message.id !== round) return;
      texts.push(message.text);
      if (--waiting === 0) done();
    };
    const timer = setTimeout(done, SCRAPE_MS);
    cluster.on('message', onRendered);
    for (const w of workers) tell(w, { km: 'render', id: round });
  };

  cluster.on('message', (worker, message: unknown) => {
    if (!isOurs<WorkerMessage>(message)) return;
    switch (message.km) {
      case 'take':
        tell(worker, { km: 'took', id: message.id, result: limiter.take(message.key, message.rule, message.now) });
        return;
      case 'fail': {
        const lockMs = limiter.fail(message.key, message.rule, message.now);
        tell(worker, { km: 'failed', id: message.id, lockMs });
        if (lockMs > 0) everyone({ km: 'locked', key: message.key, until: message.now + lockMs }, worker);
        return;
      }
      case 'publish':
        everyone({ km: 'event', event: message.event }, worker);
        return;
      case 'scrape':
        scrape(worker, message.id);
        return;
      case 'listening':
        announced.add(worker.id);
        if (!listeningLogged && announced.size >= config.workers) {
          listeningLogged = true;
          log.info('keymint listening', { ...message.fields, workers: config.workers });
        } else if (listeningLogged) log.info('worker replaced', { pid: worker.process.pid });
        return;
      case 'rendered':
        return; // handled by the scrape that asked
      case 'refusing':
        refused.add(worker.id);
        // At startup every worker fails alike: one says it. A replacement that fails later says its own.
        tell(worker, { km: 'refuse', say: listeningLogged || !refusalSaid });
        refusalSaid = true;
        return;
    }
  });

  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    const wasServing = announced.delete(worker.id);
    const said = refused.delete(worker.id);
    if (stopping) {
      if (running().length === 0) resolveExit(exitCode);
      return;
    }
    if (!wasServing && !listeningLogged) {
      // It never got to serve at startup: a configuration or port problem that a new worker repeats.
      // A worker that refused said why on stderr, in the one line the operator reads; of others, say so.
      if (!said) log.error('a worker failed to start; stopping', { pid: worker.process.pid, exitCode: code, signal });
      exitCode = code || 1;
      void shutdown('startup', said);
      return;
    }
    restarts++;
    const now = Date.now();
    backoffMs = now - lastCrash < CRASH_WINDOW_MS ? Math.min(5_000, Math.max(100, backoffMs * 2)) : 0;
    lastCrash = now;
    log.warn('worker died; replacing it', { pid: worker.process.pid, exitCode: code, signal, inMs: backoffMs });
    setTimeout(() => stopping || fork(), backoffMs);
  });

  /** `quiet`: a worker's refusal has said all there is to say. */
  const shutdown = async (reason: string, quiet = false) => {
    if (stopping) return;
    stopping = true;
    if (!quiet) log.info('shutting down', { signal: reason, workers: running().length });
    for (const w of running()) tell(w, { km: 'drain' });
    const killer = setTimeout(() => {
      for (const w of running()) w.process.kill('SIGKILL');
    }, DRAIN_MS + 5_000);
    killer.unref();
    if (running().length === 0) resolveExit(exitCode);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  for (let i = 0; i < config.workers; i++) fork();
  return exited;
}
