/**
 * The sandbox panel's server side. The console does not know the sandbox (a layer beside it): the
 * sandbox hands it, once started, the very `SandboxControls` its `/_sandbox/` control API drives,
 * seen here through `SandboxPanelControls`, and the few constants its forms offer. Faults are checked
 * by the sandbox alone: a refused one comes back as its `SandboxInputError`, read here by shape
 * (`path`, `problem`). Every change is audited under the signed-in user's name.
 */
import type { Store } from '../storage/types.ts';
import { actorOf, type SignedInUser } from './auth.ts';
import type { FaultState as PanelFault, SandboxPanel } from '../wire/sandbox.ts';

/** A fault as the sandbox holds it, and one request of its record, as the panel shows them (the sandbox's own types). */
export type { FaultState as PanelFault, RecordedRequest as PanelRequest } from '../wire/sandbox.ts';

/** What the panel drives and the sandbox as the console is given it: the sandbox's own types. */
export type { SandboxPanel, SandboxPanelControls } from '../wire/sandbox.ts';

/** A fault the sandbox refused: the spec field at fault (undefined: the fault as a whole) and why. */
export interface RefusedFault {
  readonly field: string | undefined;
  readonly problem: string;
}

/** The sandbox's `SandboxInputError`, by shape: `path` (`['fault', 'status']`) and `problem`. */
export function refusedFault(err: unknown): RefusedFault | undefined {
  if (!(err instanceof Error) || err.name !== 'SandboxInputError') return undefined;
  const { path, problem } = err as Error & { path?: unknown; problem?: unknown };
  if (!Array.isArray(path) || typeof problem !== 'string') return undefined;
  const field = path[1];
  return { field: typeof field === 'string' ? field : undefined, problem };
}

/** The panel's actions, each audited as `sandbox.*` under `console:<name>`. */
export class SandboxPanelActions {
  readonly panel: SandboxPanel;
  /** Where the clock started (its offset when the console was given the sandbox): "reset" goes back here. */
  readonly startOffsetMs: number;
  readonly #audit: Pick<Store, 'audit'>['audit'];
  readonly #now: () => number;

  constructor(panel: SandboxPanel, store: Pick<Store, 'audit'>, now: () => number) {
    this.panel = panel;
    this.startOffsetMs = panel.controls.clock().offsetMs;
    this.#audit = store.audit;
    this.#now = now;
  }

  /** Adds the fault; throws the sandbox's error when it refuses it (see `refusedFault`). */
  async addFault(spec: Record<string, unknown>, user: SignedInUser): Promise<PanelFault> {
    const added = this.panel.controls.fault(spec);
    await this.#log(user, 'sandbox.fault_add', added.id, { spec: JSON.stringify(spec) });
    return added;
  }

  async removeFault(id: string, user: SignedInUser): Promise<boolean> {
    const removed = this.panel.controls.removeFault(id);
    if (removed) await this.#log(user, 'sandbox.fault_remove', id, {});
    return removed;
  }

  async clearFaults(user: SignedInUser): Promise<void> {
    const n = this.panel.controls.faults().length;
    this.panel.controls.clearFaults();
    await this.#log(user, 'sandbox.faults_clear', 'faults', { removed: n });
  }

  /** Moves the clock by `ms`; false (nothing moved) when the offset would leave ±maxClockOffsetMs. */
  async advanceClock(ms: number, user: SignedInUser): Promise<boolean> {
    const offset = this.panel.controls.clock().offsetMs + ms;
    if (!Number.isSafeInteger(ms) || Math.abs(offset) > this.panel.maxClockOffsetMs) return false;
    this.panel.controls.advanceClock(ms);
    await this.#log(user, 'sandbox.clock_advance', 'clock', { advance_ms: ms, offset_ms: offset });
    return true;
  }

  async resetClock(user: SignedInUser): Promise<void> {
    this.panel.controls.setClockOffset(this.startOffsetMs);
    await this.#log(user, 'sandbox.clock_reset', 'clock', { offset_ms: this.startOffsetMs });
  }

  async clearRequests(user: SignedInUser): Promise<void> {
    this.panel.controls.clearRequests();
    await this.#log(user, 'sandbox.requests_clear', 'requests', {});
  }

  /** Faults back to the sandbox file's, the clock to its start, the record empty. */
  async reset(user: SignedInUser): Promise<void> {
    await this.panel.controls.reset();
    await this.#log(user, 'sandbox.reset', 'sandbox', {});
  }

  async #log(user: SignedInUser, action: string, target: string, detail: Record<string, string | number>): Promise<void> {
    await this.#audit.append({ at: this.#now(), actor: actorOf(user), action, target, detail });
  }
}
