/**
 * Scheduled removal of expired rows (SECURITY GROW-01): every `purgeIntervalMs`, one pass over every
 * table of `PURGE_TABLES`, in batches of at most `purgeBatchSize` rows and at most `purgeBatchSize` ×
 * `purgeMaxBatches` rows per table, so a pass is bounded however far behind it starts; what it leaves, the next
 * pass takes. A row goes only once it has been expired for `purgeGrace` seconds: until then a rotated
 * refresh token or a spent code can still be recognised when replayed (RT-04, C-02), and a revoked
 * JWT's id stays in the tokens table and the revocation feed until the JWT itself has expired.
 *
 * Passes never overlap in a process, and the store makes them exclusive across processes and nodes
 * (`PurgeRepo.exclusive`). A pass of a large backlog shares the store with the traffic: after each
 * batch it pauses for at least as long as the batch took, so it takes at most about half of the event
 * loop and of the store's write lock, and requests (several turns of the loop each) complete between
 * batches instead of queuing behind a hundred back-to-back batches. On a schedule it also spreads its
 * batches over three quarters of the interval: a pass removes as many rows as before, at a steady
 * pace instead of in a burst. A burst of 100 batches wrote the store's log at several times the
 * traffic's own rate (on PostgreSQL 57 MB in 12 s for 86,000 tokens, on SQLite a checkpoint every
 * fifth batch), and every commit of an issued token waited for that log to reach the disk
 * (docs/performance.md, "Data scale"). A store may cap the batch (`maxBatch`). `stop` ends a pass at
 * its next pause.
 */
import type { Config } from '../config/types.ts';
import { PURGE_TABLES, type PurgeRepo, type PurgeTable } from './types.ts';

export type PurgeSettings = Pick<Config, 'purgeIntervalMs' | 'purgeBatchSize' | 'purgeMaxBatches' | 'purgeGrace'>;

export interface PurgeReport {
  /** False when another process or node held the store's purge. */
  readonly ran: boolean;
  /** Rows removed, by table. */
  readonly rows: Readonly<Record<PurgeTable, number>>;
  /** True when some table still had expired rows after its last allowed batch. */
  readonly behind: boolean;
  /** Epoch ms of the pass (the injected clock); rows that expired before `at - grace` were eligible. */
  readonly at: number;
  /** Wall-clock duration of the pass, seconds. */
  readonly seconds: number;
}

export interface Purger {
  /** One pass now (waits for a pass already running, then runs another). */
  run(): Promise<PurgeReport>;
  /** Stops the schedule and waits for a pass in progress. */
  stop(): Promise<void>;
}

export interface PurgerOptions {
  readonly now: () => number;
  /** The console's clock, for its sessions and links: the machine's in a sandbox, whose `now` moves. Default `now`. */
  readonly consoleNow?: () => number;
  readonly onReport: (report: PurgeReport) => void;
  readonly onError: (err: unknown) => void;
  /** Monotonic ms, for the batches' durations (default `performance.now`); a test's clock. */
  readonly clock?: () => number;
  /** Waits `ms` between two batches, or less if `stopped` aborts first (default a timer); a test's record. */
  readonly sleep?: (ms: number, stopped: AbortSignal) => Promise<void>;
}

/** The longest pause a slow batch earns by its own duration, ms: it does not stall the pass for long. */
const MAX_PAUSE_MS = 1000;

/** The share of the purge interval over which a scheduled pass spreads its batches. */
export const PURGE_SPREAD = 0.75;

/** The default `sleep`: a timer (timers, I/O and immediates all run meanwhile), cut short by `stopped`. */
const timerSleep = (ms: number, stopped: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stopped.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stopped.addEventListener('abort', done);
  });

/**
 * The pause after a batch that took `took` ms: at least as long as the batch (up to MAX_PAUSE_MS),
 * and on a schedule whatever is left of the batch's share of the spread; at least 1 ms.
 */
export function purgePause(took: number, settings: Pick<PurgeSettings, 'purgeIntervalMs'>, maxBatches: number): number {
  const share = (settings.purgeIntervalMs * PURGE_SPREAD) / maxBatches;
  return Math.max(1, Math.ceil(Math.max(Math.min(MAX_PAUSE_MS, took), share - took)));
}

export function startPurger(repo: PurgeRepo, settings: PurgeSettings, options: PurgerOptions): Purger {
  let current: Promise<unknown> = Promise.resolve();
  let running = 0;
  const clock = options.clock ?? (() => performance.now());
  const sleep = options.sleep ?? timerSleep;
  const stopping = new AbortController();

  const pass = async (): Promise<PurgeReport> => {
    const at = options.now();
    const graced = at - settings.purgeGrace * 1000;
    const consoleGraced = (options.consoleNow?.() ?? at) - settings.purgeGrace * 1000;
    const started = clock();
    const rows = Object.fromEntries(PURGE_TABLES.map((t) => [t, 0])) as Record<PurgeTable, number>;
    let behind = false;
    // A store's smaller batches leave the rows a pass may take unchanged: more of them, each smaller.
    const limit = Math.min(settings.purgeBatchSize, repo.maxBatch ?? Infinity);
    const maxBatches = Math.ceil((settings.purgeMaxBatches * settings.purgeBatchSize) / limit);
    const ran = await repo.exclusive(async (batch) => {
      for (const table of PURGE_TABLES) {
        for (let i = 1; ; i++) {
          // A sealed successor is kept for its window only, never for a grace after it (RACE-04).
          const began = clock();
          const n = await batch(table, table === 'refresh_successors' ? at : table === 'console_sessions' || table === 'console_links' ? consoleGraced : graced, limit);
          rows[table] += n;
          if (n < limit) break;
          if (i < maxBatches && !stopping.signal.aborted) await sleep(purgePause(clock() - began, settings, maxBatches), stopping.signal);
          if (i === maxBatches || stopping.signal.aborted) {
            behind = true;
            break;
          }
        }
      }
      return true;
    });
    const report = { ran: ran === true, rows, behind, at, seconds: (clock() - started) / 1000 };
    options.onReport(report);
    return report;
  };

  const run = (): Promise<PurgeReport> => {
    running++;
    const next = current.catch(() => undefined).then(pass).finally(() => running--);
    current = next;
    return next;
  };

  // A tick that finds a pass still running skips: passes never queue up behind a slow store.
  const timer =
    settings.purgeIntervalMs > 0
      ? setInterval(() => {
          if (running === 0) run().catch(options.onError);
        }, settings.purgeIntervalMs)
      : undefined;
  timer?.unref();

  return {
    run,
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await current.catch(() => undefined);
    },
  };
}
