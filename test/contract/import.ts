/**
 * importSession (v2): writes a session as a copy holds it — the given order across agents, ids,
 * timestamps, metadata, title, session metadata — idempotent by id, so an import can be resumed.
 */
import type { ImportMessage, SessionMessage } from '../../src/index.js';
import { TestClock } from '../helpers/clock.js';
import { codeOf, idsOf, refused, seeded, sessionMessages, type Declare } from './support.js';

/** Interleaved agents, tied and backward timestamps, repeated roles and every role. */
const exported: ImportMessage[] = [
  { agentId: 'alpha', id: 'm1', role: 'system', content: [{ text: 'rules' }], timestamp: 5_000 },
  { agentId: 'alpha', id: 'm2', role: 'user', content: [{ text: 'q1' }], timestamp: 5_000, metadata: { lang: 'en' } },
  { agentId: 'beta', id: 'm3', role: 'user', content: [{ text: 'q2' }], timestamp: 5_000 },
  { agentId: 'alpha', id: 'm4', role: 'assistant', content: [{ text: 'a1' }], timestamp: 4_000, metadata: { usage: { tokens: 3 } } },
  { agentId: 'alpha', id: 'm5', role: 'assistant', content: [{ text: 'a1 again' }], timestamp: 4_500 },
  { agentId: 'beta', id: 'm6', role: 'user', content: 'q2 again', timestamp: 6_000 },
  { agentId: 'beta', id: 'm7', role: 'tool', content: [{ toolResult: { toolUseId: 't' } }], timestamp: 6_000 },
  { agentId: 'alpha', id: 'm8', role: 'user', content: [{ text: 'q3' }], timestamp: 7_000 },
];

const asStored = (m: ImportMessage) => {
  const content = typeof m.content === 'string' ? [{ text: m.content }] : m.content;
  return m.metadata === undefined
    ? { agentId: m.agentId, id: m.id, role: m.role, content, timestamp: m.timestamp }
    : { agentId: m.agentId, id: m.id, role: m.role, content, timestamp: m.timestamp, metadata: m.metadata };
};
const withoutSeq = ({ seq: _seq, ...rest }: SessionMessage) => rest;

export function importTests(t: Declare): void {
  t('importSession keeps the given order across agents, ids, timestamps, roles, metadata, title and session metadata', async (tt, open) => {
    const { store } = await open({ clock: () => 99_000 }); // skip policy: an import keeps repeated roles anyway
    const result = await store.importSession('u', 's', { createdAt: 1_000, lastActivityAt: 8_000, title: 'Imported', metadata: { source: 'v1' }, messages: exported });
    tt.deepEqual(result, { imported: 8, unchanged: 0 });
    const stored = await sessionMessages(store, 'u', 's');
    tt.deepEqual(stored.map(withoutSeq), exported.map(asStored));
    tt.deepEqual(stored.filter((m) => m.agentId === 'alpha').map((m) => m.seq), [1, 2, 3, 4, 5]);
    tt.deepEqual(await store.getSession('u', 's'), {
      sessionId: 's',
      createdAt: 1_000,
      lastActivityAt: 8_000,
      messageCount: 8,
      agents: [
        { agentId: 'alpha', messageCount: 5, lastMessageAt: 7_000 },
        { agentId: 'beta', messageCount: 3, lastMessageAt: 6_000 },
      ],
      title: 'Imported',
      metadata: { source: 'v1' },
    });
    tt.deepEqual((await store.fetchAllChats('u', 's')).map((m) => m.content[0]!.text), ['rules', 'q1', 'q2', '[alpha] a1', '[alpha] a1 again', 'q2 again', undefined, 'q3']);
  });

  t('importSession defaults: created at the first message, last active at the newest; the clock is not used', async (tt, open) => {
    const { store } = await open({ clock: () => 99_000 });
    const increasing = exported.map((m, i) => ({ ...m, timestamp: 1_000 + i * 10 }));
    await store.importSession('u', 's', { messages: increasing });
    tt.like(await store.getSession('u', 's'), { createdAt: 1_000, lastActivityAt: 1_070 });
    tt.false('title' in (await store.getSession('u', 's'))!);
    await store.importSession('u', 'named', { title: 'Only a title', messages: [] });
    tt.like(await store.getSession('u', 'named'), { title: 'Only a title', messageCount: 0 });
  });

  t('importSession is resumable: what is stored identically is not written again, chunks continue the session', async (tt, open) => {
    const { store } = await open();
    tt.deepEqual(await store.importSession('u', 's', { messages: exported.slice(0, 3) }), { imported: 3, unchanged: 0 });
    tt.deepEqual(await store.importSession('u', 's', { messages: exported.slice(0, 5) }), { imported: 2, unchanged: 3 }, 'an interrupted import run again');
    tt.deepEqual(await store.importSession('u', 's', { messages: exported.slice(5) }), { imported: 3, unchanged: 0 }, 'the next chunk');
    tt.deepEqual(await store.importSession('u', 's', { messages: exported }), { imported: 0, unchanged: 8 });
    await store.importSession('u', 'whole', { messages: exported });
    tt.deepEqual(await sessionMessages(store, 'u', 's'), await sessionMessages(store, 'u', 'whole'));
    tt.deepEqual(idsOf(await sessionMessages(store, 'u', 's')), exported.map((m) => m.id));
  });

  t('importSession refuses bad input before writing, and a conflicting id with ConflictError', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const one = exported[1]!;
    const bad: Array<[string, unknown]> = [
      ['no id', { messages: [{ ...one, id: undefined }] }],
      ['no timestamp', { messages: [{ ...one, timestamp: undefined }] }],
      ['no agentId', { messages: [{ ...one, agentId: undefined }] }],
      ['bad agentId', { messages: [{ ...one, agentId: '' }] }],
      ['bad role', { messages: [{ ...one, role: 'developer' }] }],
      ['bad content', { messages: [{ ...one, content: [{ n: Number.NaN }] }] }],
      ['bad metadata', { messages: [{ ...one, metadata: [] }] }],
      ['an id twice', { messages: [one, { ...exported[2]!, id: one.id }] }],
      ['a bad message after good ones', { messages: [...exported, { ...one, id: 'late', content: 5 }] }],
      ['bad title', { title: '', messages: exported }],
      ['bad session metadata', { metadata: 'x', messages: exported }],
      ['bad createdAt', { createdAt: -1, messages: exported }],
      ['messages not an array', { messages: 'x' }],
      ['input a string', 'x'],
    ];
    for (const [what, input] of bad) await refused(tt, target, () => store.importSession('u1', 'imported', input as never), 'VALIDATION', what);
    tt.is(await store.getSession('u1', 'imported'), null);
    tt.is(await codeOf(() => store.importSession('u1', 's1', { messages: [{ agentId: 'a1', id: 'x0', role: 'user', content: 'changed', timestamp: 1 }] })), 'CONFLICT');
    tt.is(await codeOf(() => store.importSession('u1', 's1', { messages: [{ agentId: 'a2', id: 'x0', role: 'user', content: [{ text: 'x0' }], timestamp: 1 }] })), 'CONFLICT', 'x0 is held by a1');
  });

  t('an imported session reads like the original: copy = export then import', async (tt, open) => {
    const clock = new TestClock(1_000);
    const { store } = await open({ clock: clock.read, consecutiveRoles: 'keep' });
    for (let i = 0; i < 12; i++) {
      await store.saveChatMessage('u', 'orig', i % 3 === 0 ? 'a' : 'b', { role: i % 2 ? 'assistant' : 'user', content: `m${i}`, ...(i % 4 === 0 ? { metadata: { i } } : {}) });
      if (i % 5 === 4) clock.advance(-100);
    }
    const original = await sessionMessages(store, 'u', 'orig');
    const copy = original.map(({ seq: _seq, ...m }) => m);
    await store.importSession('u', 'copy', { messages: copy });
    tt.deepEqual(await sessionMessages(store, 'u', 'copy'), original);
    tt.deepEqual(await store.fetchAllChats('u', 'copy'), await store.fetchAllChats('u', 'orig'));
  });
}
