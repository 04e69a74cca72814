import assert from 'node:assert/strict';
import type { StoreTest } from './index.ts';

export function auditContract(test: StoreTest): void {
  test('append and list newest first', async (store) => {
    for (let i = 0; i < 3; i++) {
      await store.audit.append({ at: 1000 + i, actor: 'cli', action: `a${i}`, target: 't', detail: { n: i, ok: true, none: null } });
    }
    const events = await store.audit.list(2);
    assert.deepEqual(events.map((e) => e.action), ['a2', 'a1']);
    assert.deepEqual(events[0], { at: 1002, actor: 'cli', action: 'a2', target: 't', detail: { n: 2, ok: true, none: null } });
  });
}
