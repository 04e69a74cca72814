import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadShedder } from '../../src/limits/shedding.ts';

test('event-loop delay over the threshold sheds new requests; exempt paths never are', async () => {
  const shedder = new LoadShedder({ maxInFlight: 0, maxEventLoopDelayMs: 50, exempt: new Set(['/healthz']) });
  try {
    assert.equal(shedder.exempts('/oauth2/token'), false);
    assert.equal(shedder.check(), undefined);
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // Block the loop, as a burst of CPU-bound work would.
    }
    // The sampler (scheduled before) runs first in this timers phase and records the delay.
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(shedder.check(), 'event_loop');
    assert.equal(shedder.exempts('/healthz'), true, 'the server asks no exempt path to be checked');
  } finally {
    shedder.stop();
  }
});
