import assert from 'node:assert/strict';
import type { AuditEvent } from '../../../src/storage/types.ts';
import type { StoreTest } from './index.ts';

const event = (i: number, over: Partial<AuditEvent> = {}): AuditEvent => ({ at: 1000 + i, actor: 'cli', action: `a${i}`, target: 't', detail: { n: i }, ...over });

export function auditContract(test: StoreTest): void {
  test('append and list newest first', async (store) => {
    for (let i = 0; i < 3; i++) {
      await store.audit.append({ at: 1000 + i, actor: 'cli', action: `a${i}`, target: 't', detail: { n: i, ok: true, none: null } });
    }
    const events = await store.audit.list(2);
    assert.deepEqual(events.map((e) => e.action), ['a2', 'a1']);
    assert.deepEqual(events[0], { at: 1002, actor: 'cli', action: 'a2', target: 't', detail: { n: 2, ok: true, none: null } });
  });

  test('query: newest first, keyset pages that end with no cursor, stable under appends', async (store) => {
    for (let i = 0; i < 5; i++) await store.audit.append(event(i));
    const first = await store.audit.query({}, 2);
    assert.deepEqual(first.events.map((e) => e.action), ['a4', 'a3']);
    assert.equal(typeof first.next, 'string');
    await store.audit.append(event(5)); // a new event does not shift the next page
    const second = await store.audit.query({}, 2, first.next);
    assert.deepEqual(second.events.map((e) => e.action), ['a2', 'a1']);
    const third = await store.audit.query({}, 2, second.next);
    assert.deepEqual(third.events.map((e) => e.action), ['a0']);
    assert.equal(third.next, undefined);
    // Exactly a page's worth left: the last full page has no cursor.
    const exact = await store.audit.query({}, 3, first.next);
    assert.deepEqual(exact.events.map((e) => e.action), ['a2', 'a1', 'a0']);
    assert.equal(exact.next, undefined);
    assert.deepEqual(third.events[0], { at: 1000, actor: 'cli', action: 'a0', target: 't', detail: { n: 0 } });
  });

  test('query: filters by target, actor and action, combined, across pages; a malformed cursor starts from the newest', async (store) => {
    const rows: AuditEvent[] = [
      event(0, { actor: 'console:ann', action: 'client.create', target: 'c1' }),
      event(1, { actor: 'cli', action: 'client.create', target: 'c2' }),
      event(2, { actor: 'console:ann', action: 'client.disable', target: 'c1' }),
      event(3, { actor: 'console:bob', action: 'client.enable', target: 'c1' }),
      event(4, { actor: 'console:ann', action: 'client.create', target: 'c3' }),
    ];
    for (const r of rows) await store.audit.append(r);
    const targets = (p: { events: AuditEvent[] }) => p.events.map((e) => `${e.actor}/${e.action}/${e.target}`);
    assert.deepEqual(targets(await store.audit.query({ target: 'c1' }, 10)), ['console:bob/client.enable/c1', 'console:ann/client.disable/c1', 'console:ann/client.create/c1']);
    assert.deepEqual(targets(await store.audit.query({ actor: 'console:ann' }, 10)), ['console:ann/client.create/c3', 'console:ann/client.disable/c1', 'console:ann/client.create/c1']);
    assert.deepEqual(targets(await store.audit.query({ action: 'client.create', actor: 'console:ann' }, 10)), ['console:ann/client.create/c3', 'console:ann/client.create/c1']);
    assert.deepEqual(targets(await store.audit.query({ action: 'client.create', target: 'c9' }, 10)), []);
    assert.deepEqual(targets(await store.audit.query({ action: 'client.', target: 'c1' }, 10)), ['console:bob/client.enable/c1', 'console:ann/client.disable/c1', 'console:ann/client.create/c1']);
    assert.deepEqual(targets(await store.audit.query({ action: 'client', target: 'c1' }, 10)), [], 'without the dot: exact');
    assert.deepEqual(targets(await store.audit.query({ action: 'clie.' }, 10)), []);
    const page1 = await store.audit.query({ actor: 'console:ann' }, 2);
    assert.deepEqual(targets(page1), ['console:ann/client.create/c3', 'console:ann/client.disable/c1']);
    const page2 = await store.audit.query({ actor: 'console:ann' }, 2, page1.next);
    assert.deepEqual(targets(page2), ['console:ann/client.create/c1']);
    assert.equal(page2.next, undefined);
    for (const bad of ['x', '-1', '0', "1' OR 1=1", '9'.repeat(40)]) {
      assert.equal((await store.audit.query({}, 1, bad)).events[0]?.target, 'c3', bad);
    }
  });
}
