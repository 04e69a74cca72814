/**
 * The worker side of `keymint serve --workers N`: what a worker shares through the primary when there
 * is no Redis to share it through. Outside a worker every function here is a no-op or the plain
 * single-process behaviour, so `keymint serve` reads the same either way.
 *
 * - Rate-limit buckets: every take is one round trip to the primary's limiter (atomic there).
 * - Lockouts: failures are counted by the primary; when a lockout begins the primary tells every
 *   worker, which then refuses the pair locally, without a round trip per request.
 * - The feed (client changes, key rotations, revocations): relayed by the primary to every worker.
 * - `/metrics`: whichever worker is asked returns every worker's figures, summed by the primary.
 */
import cluster from 'node:cluster';
import type { OpenOptions } from '../core.ts';
import type { Feed, FeedEvent } from '../feed/types.ts';
import type { BucketRule, LimiterBackend, LockoutRule, TakeResult } from '../limits/types.ts';
import { Metrics } from '../metrics/index.ts';
import type { Logger } from '../util/log.ts';
import { isOurs, type PrimaryMessage, type WorkerMessage } from './messages.ts';

/** Most lockouts a worker remembers; past it the oldest is forgotten (the primary still counts). */
const MAX_LOCKS = 100_000;
const ASK_TIMEOUT_MS = 5_000;

export type WorkerOptions = Pick<OpenOptions, 'limiter' | 'feed' | 'metrics' | 'scrape'>;

let nextId = 1;
const pending = new Map<number, { resolve: (m: PrimaryMessage) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

function send(message: WorkerMessage): void {
  if (!process.connected || !process.send) throw new Error('the primary process is gone');
  process.send(message);
}

function ask(build: (id: number) => WorkerMessage): Promise<PrimaryMessage> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('the primary process did not answer'));
    }, ASK_TIMEOUT_MS);
    pending.set(id, { resolve, reject, timer });
    try {
      send(build(id));
    } catch (err) {
      clearTimeout(timer);
      pending.delete(id);
      reject(err as Error);
    }
  });
}

function answered(message: PrimaryMessage & { id: number }): void {
  const p = pending.get(message.id);
  if (!p) return;
  clearTimeout(p.timer);
  pending.delete(message.id);
  p.resolve(message);
}

class WorkerLimiter implements LimiterBackend {
  readonly #locks = new Map<string, number>();

  async take(key: string, rule: BucketRule, now: number): Promise<TakeResult> {
    const m = await ask((id) => ({ km: 'take', id, key, rule, now }));
    if (m.km !== 'took') throw new Error(`unexpected answer ${m.km}`);
    return m.result;
  }

  async lockedFor(key: string, now: number): Promise<number> {
    const until = this.#locks.get(key);
    if (until === undefined) return 0;
    if (until <= now) this.#locks.delete(key);
    return Math.max(0, until - now);
  }

  async fail(key: string, rule: LockoutRule, now: number): Promise<number> {
    const m = await ask((id) => ({ km: 'fail', id, key, rule, now }));
    if (m.km !== 'failed') throw new Error(`unexpected answer ${m.km}`);
    if (m.lockMs > 0) this.locked(key, now + m.lockMs);
    return m.lockMs;
  }

  locked(key: string, until: number): void {
    this.#locks.delete(key);
    if (this.#locks.size >= MAX_LOCKS) {
      const oldest = this.#locks.keys().next().value;
      if (oldest !== undefined) this.#locks.delete(oldest);
    }
    this.#locks.set(key, until);
  }
}

let options: WorkerOptions | undefined;
/** The primary said to drain (possibly while this worker was still starting). */
let drainAsked = false;

/**
 * In a worker: the limiter, feed, metrics and scrape that go through the primary (built once).
 * Elsewhere: nothing, and the service keeps its own.
 */
export function workerOptions(): WorkerOptions {
  if (!cluster.isWorker) return {};
  if (options) return options;
  const limiter = new WorkerLimiter();
  const metrics = new Metrics();
  const handlers: Array<(event: FeedEvent) => void> = [];
  const deliver = (event: FeedEvent) => {
    for (const h of handlers) h(event);
  };
  const feed: Feed = {
    async publish(event) {
      deliver(event);
      try {
        send({ km: 'publish', event });
      } catch {
        // Best effort, as every feed: a lost message is bounded by the cache lifetimes.
      }
    },
    subscribe: (h) => void handlers.push(h),
    healthy: () => process.connected,
    close: async () => {},
  };
  process.on('message', (message: unknown) => {
    if (!isOurs<PrimaryMessage>(message)) return;
    switch (message.km) {
      case 'took':
      case 'failed':
      case 'scraped':
        return answered(message);
      case 'locked':
        return limiter.locked(message.key, message.until);
      case 'event':
        return deliver(message.event);
      case 'render':
        return send({ km: 'rendered', id: message.id, text: metrics.render() });
      case 'drain':
        drainAsked = true; // stopRequested() listens for it, or, asked before it listens, sees this
        return;
      case 'refuse':
        return; // firstToRefuse() listens for it
    }
  });
  const scrape = async () => {
    const m = await ask((id) => ({ km: 'scrape', id }));
    if (m.km !== 'scraped') throw new Error(`unexpected answer ${m.km}`);
    return m.text;
  };
  options = { limiter, feed, metrics, scrape };
  return options;
}

/** `keymint listening …`: logged by this process alone, or, in a worker, once by the primary for all. */
export function announceListening(log: Logger, fields: Record<string, unknown>): void {
  if (cluster.isWorker) send({ km: 'listening', fields });
  else log.info('keymint listening', fields);
}

/**
 * In a worker whose start failed: whether it is the one to print why. Every worker of one start
 * meets the same problem (a bad --host, a mount that does not fit) at about the same time; the
 * primary lets the first say it and the others end with the same exit code in silence, so the
 * operator reads the one line once. Outside a worker, or with no answer from the primary, true.
 */
export function firstToRefuse(): Promise<boolean> {
  if (!cluster.isWorker || !process.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (say: boolean) => {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(say);
    };
    const onMessage = (message: unknown) => {
      if (isOurs<PrimaryMessage>(message) && message.km === 'refuse') done(message.say);
    };
    const timer = setTimeout(() => done(true), ASK_TIMEOUT_MS);
    process.on('message', onMessage);
    try {
      send({ km: 'refusing' });
    } catch {
      done(true);
    }
  });
}

/**
 * In a worker whose start failed: lets it end once `main` has said why. The channel to the primary
 * keeps a worker alive, so it would linger unseen while the primary, which says where it listens only
 * once every worker has, waited for it forever (a test run hung so for 16 minutes). Ended, it is seen:
 * the primary reports that a worker failed to start and stops with its exit code.
 */
export function leaveCluster(): void {
  if (cluster.isWorker) process.channel?.unref();
}

/**
 * Resolves when this process should stop: on SIGINT or SIGTERM, or, in a worker, when the primary
 * says to drain (a worker ignores the terminal's Ctrl-C, which reaches the whole process group: the
 * primary drains every worker in order) or is gone.
 */
export function stopRequested(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    if (cluster.isWorker) {
      const ignore = () => {};
      process.on('SIGINT', ignore);
      process.on('SIGTERM', ignore);
      const drained = () => {
        // The channel alone must not keep a drained worker alive.
        process.channel?.unref();
        resolve();
      };
      if (drainAsked) return drained();
      process.on('message', (message: unknown) => {
        if (isOurs<PrimaryMessage>(message) && message.km === 'drain') drained();
      });
      process.once('disconnect', () => {
        log.warn('the primary process is gone; this worker stops');
        resolve();
      });
      return;
    }
    const stop = (signal: string) => {
      log.info('shutting down', { signal });
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
