/**
 * The sandbox panel's routes: the page for everyone signed in, each change a POST for admins that
 * answers with a redirect to the page (or the page again, 400, with the refused field named). They
 * exist only once a sandbox has given the console its controls: on `keymint serve --console` every
 * path here is a 404.
 */
import { htmlResponse, redirect, route, type ConsoleRequest, type ConsoleRoute } from './http.ts';
import * as p from './pages/index.ts';
import { refusedFault, type SandboxPanelActions } from './sandbox.ts';

/** What a redirect's `done` parameter says on the panel. */
export const SANDBOX_DONE: Readonly<Record<string, p.Notice>> = {
  'fault-added': { kind: 'ok', text: 'The fault is in force.' },
  'fault-removed': { kind: 'ok', text: 'The fault was removed.' },
  'fault-gone': { kind: 'warn', text: 'There was no such fault (it may have been removed already).' },
  'faults-cleared': { kind: 'ok', text: 'Every fault was removed.' },
  'clock-advanced': { kind: 'ok', text: 'The clock was moved.' },
  'clock-reset': { kind: 'ok', text: 'The clock is back at its start.' },
  'requests-cleared': { kind: 'ok', text: 'The request record is empty.' },
  reset: { kind: 'ok', text: 'The sandbox was reset: faults from its file, the clock at its start, the record empty.' },
};

const done = (what: keyof typeof SANDBOX_DONE & string) => redirect(`/sandbox?done=${what}`);

export function sandboxRoutes(actions: () => SandboxPanelActions | undefined, dialects: readonly string[], context: (req: ConsoleRequest) => p.PageContext): ConsoleRoute[] {
  const enabled = () => actions() !== undefined;
  const page = (req: ConsoleRequest, status: number, extra: Partial<p.SandboxView> = {}) => {
    const a = actions()!;
    const c = a.panel.controls;
    const requests = c.requests();
    const view: p.SandboxView = {
      clock: c.clock(),
      startOffsetMs: a.startOffsetMs,
      faults: c.faults(),
      requests: requests.slice(-p.RECENT_REQUESTS).reverse(),
      recorded: requests.length,
      dialects,
      statuses: a.panel.faultStatuses,
      endpoints: a.panel.faultEndpoints,
      ...extra,
    };
    return htmlResponse(status, p.sandboxPage(context(req), view));
  };
  const change = (path: string, handler: (req: ConsoleRequest, a: SandboxPanelActions) => ReturnType<ConsoleRoute['handler']>): ConsoleRoute => ({
    ...route('POST', path, 'admin', (req) => handler(req, actions()!)),
    enabled,
  });
  return [
    { ...route('GET', '/sandbox', 'viewer', (req) => page(req, 200)), enabled },
    change('/sandbox/faults', async (req, a) => {
      const values = p.faultFormFromBody(req.form);
      try {
        await a.addFault(p.faultSpecOf(values), req.user);
      } catch (err) {
        const refused = refusedFault(err);
        if (!refused) throw err;
        // A problem with the fault as a whole (no action given) is said beside what it does.
        return page(req, 400, { fault: values, faultErrors: { [refused.field ?? 'status']: refused.problem } });
      }
      return done('fault-added');
    }),
    change('/sandbox/faults/clear', async (req, a) => {
      await a.clearFaults(req.user);
      return done('faults-cleared');
    }),
    change('/sandbox/faults/:id/remove', async (req, a) => done((await a.removeFault(req.params.id!, req.user)) ? 'fault-removed' : 'fault-gone')),
    change('/sandbox/clock/advance', async (req, a) => {
      const clockForm = { amount: (req.form.get('amount') ?? '').trim().slice(0, 20), unit: req.form.get('unit') ?? '' };
      // Own members only (OBJ-01): `unit=toString` is an unknown unit, not Object.prototype's function.
      const unit = Object.hasOwn(p.CLOCK_UNITS, clockForm.unit) ? p.CLOCK_UNITS[clockForm.unit] : undefined;
      const refuse = (field: string, problem: string) => page(req, 400, { clockForm, clockErrors: { [field]: problem } });
      if (unit === undefined) return refuse('unit', `The unit is one of ${Object.keys(p.CLOCK_UNITS).join(', ')}.`);
      if (!/^-?\d{1,9}$/.test(clockForm.amount) || Number(clockForm.amount) === 0) return refuse('amount', 'A whole number other than 0 (negative moves the clock back).');
      if (!(await a.advanceClock(Number(clockForm.amount) * unit, req.user))) {
        return refuse('amount', `The clock stays within ${Math.round(a.panel.maxClockOffsetMs / 86_400_000)} days of this machine's time either way.`);
      }
      return done('clock-advanced');
    }),
    change('/sandbox/clock/reset', async (req, a) => {
      await a.resetClock(req.user);
      return done('clock-reset');
    }),
    change('/sandbox/requests/clear', async (req, a) => {
      await a.clearRequests(req.user);
      return done('requests-cleared');
    }),
    change('/sandbox/reset', async (req, a) => {
      await a.reset(req.user);
      return done('reset');
    }),
  ];
}
