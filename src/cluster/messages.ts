/**
 * What the primary and the workers of one `keymint serve --workers N` say to each other over
 * node:cluster's IPC channel. Nothing secret crosses it: limiter keys are hashes or client ids,
 * feed events carry ids and digests, metrics are the exposition text.
 */
import type { FeedEvent } from '../feed/types.ts';
import type { BucketRule, LockoutRule, TakeResult } from '../limits/types.ts';

/** Worker → primary. */
export type WorkerMessage =
  | { readonly km: 'take'; readonly id: number; readonly key: string; readonly rule: BucketRule; readonly now: number }
  | { readonly km: 'fail'; readonly id: number; readonly key: string; readonly rule: LockoutRule; readonly now: number }
  | { readonly km: 'publish'; readonly event: FeedEvent }
  | { readonly km: 'scrape'; readonly id: number }
  | { readonly km: 'rendered'; readonly id: number; readonly text: string }
  | { readonly km: 'listening'; readonly fields: Readonly<Record<string, unknown>> }
  /** Its start failed: may it say why (`refuse`)? */
  | { readonly km: 'refusing' };

/** Primary → worker. */
export type PrimaryMessage =
  | { readonly km: 'took'; readonly id: number; readonly result: TakeResult }
  | { readonly km: 'failed'; readonly id: number; readonly lockMs: number }
  /** A lockout began: every worker refuses the key until `until` (epoch ms) without asking. */
  | { readonly km: 'locked'; readonly key: string; readonly until: number }
  | { readonly km: 'event'; readonly event: FeedEvent }
  | { readonly km: 'render'; readonly id: number }
  | { readonly km: 'scraped'; readonly id: number; readonly text: string }
  /** Stop accepting, finish what is in flight, exit. */
  | { readonly km: 'drain' }
  /** To a worker whose start failed: whether it is the one to say why. */
  | { readonly km: 'refuse'; readonly say: boolean };

/** Our messages carry `km`; anything else on the channel (node:cluster's own) is not ours. */
export function isOurs<T extends { km: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { km?: unknown }).km === 'string';
}
