/**
 * Message ids (v2): given or made on the client, unique per session across agents; idempotent
 * retries; ConflictError when an id is reused differently; validation before everything.
 */
import { ConvostoreError, type MessageInput } from '../../src/index.js';
import { TestClock } from '../helpers/clock.js';
import { bot, idsOf, refused, seeded, sessionMessages, snapshot, tool, user, withId, type Declare } from './support.js';

const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function idsTests(t: Declare): void {
  t('a given message id is kept and read back with the message', async (tt, open) => {
    const { store } = await open();
    const odd = 'msg #1/ünï "q" 🙂';
    await store.saveChatMessage('u', 's', 'a', withId(odd, user('hello')));
    await store.saveChatMessages('u', 's', 'a', [withId('x'.repeat(256), bot('hi'))]);
    tt.deepEqual(idsOf((await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items), [odd, 'x'.repeat(256)]);
    tt.is((await store.getMessage('u', 's', odd))?.content[0]?.text, 'hello');
  });

  t('made ids are 26–36 characters, valid ids, and increase by UTF-8 bytes under a fixed or backwards clock', async (tt, open) => {
    const clock = new TestClock(1_700_000_000_000);
    const { store } = await open({ clock: clock.read, consecutiveRoles: 'keep' });
    for (let i = 0; i < 30; i++) {
      if (i === 10) clock.advance(-60_000); // backwards
      if (i < 20) await store.saveChatMessage('u', 's', i % 3 === 0 ? 'b' : 'a', user(`m${i}`));
      else await store.saveChatMessages('u', 's', 'a', [user(`m${i}a`), bot(`m${i}b`)]);
    }
    const made = idsOf(await sessionMessages(store, 'u', 's'));
    tt.is(made.length, 40);
    for (const id of made) {
      tt.true(id.length >= 26 && id.length <= 36, `length of ${id}`);
      tt.false(id.includes('\0'));
    }
    tt.deepEqual([...made].sort(byUtf8), made, 'later ids sort after earlier ones');
    tt.is(new Set(made).size, made.length, 'distinct');
  });

  t('a message id is unique within its session across agents; another session or user may reuse it', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    await refused(tt, target, () => store.saveChatMessage('u1', 's1', 'a2', withId('x0', user('x0'))), 'CONFLICT', 'x0 is held by agent a1');
    await refused(tt, target, () => store.saveChatMessages('u1', 's1', 'a3', [withId('new', user('n')), withId('y1', bot('y1'))]), 'CONFLICT', 'y1 is held by agent a2');
    await store.saveChatMessage('u1', 's2', 'a2', withId('x0', user('x0 in s2')));
    await store.saveChatMessage('u2', 's1', 'a1', withId('x0', bot('x0 of u2')));
    await store.saveChatMessage('u1', 'fresh', 'a1', withId('x0', user('x0 in a new session')));
    tt.is((await store.getMessage('u1', 's1', 'x0'))?.agentId, 'a1');
    tt.is((await store.getMessage('u1', 's2', 'x0'))?.agentId, 'a2');
    tt.is((await store.getMessage('u2', 's1', 'x0'))?.content[0]?.text, 'x0 of u2');
    tt.is((await store.getMessage('u1', 'fresh', 'x0'))?.content[0]?.text, 'x0 in a new session');
  });

  t('a retry (same id, role, content and metadata) stores nothing and is not an error, under every policy', async (tt, open) => {
    for (const policy of ['skip', 'keep', 'throw'] as const) {
      const target = await open({ consecutiveRoles: policy });
      const { store } = target;
      const batch: MessageInput[] = [withId('q', user('q'), { n: 1 }), withId('call', bot('call')), withId('t1', tool('t1')), withId('t2', tool('t2'))];
      const window = await store.saveChatMessages('u', 's', 'a', batch);
      const before = await snapshot(target);
      const stored = await sessionMessages(store, 'u', 's');
      // Checked before the consecutive-role rule: re-sending the last user message is a retry, not a repeat.
      tt.deepEqual(await store.saveChatMessages('u', 's', 'a', batch), window, `${policy}: batch retry`);
      tt.deepEqual(await store.saveChatMessage('u', 's', 'a', batch[3]!), window, `${policy}: last message again`);
      tt.deepEqual(await store.saveChatMessage('u', 's', 'a', batch[0]!), window, `${policy}: an older message again`);
      const { agentId, ...first } = stored[0]!;
      tt.is(agentId, 'a');
      tt.deepEqual(await store.upsertMessages('u', 's', 'a', [batch[0]!]), [first], `${policy}: upsert of the same message`);
      tt.deepEqual(await sessionMessages(store, 'u', 's'), stored, `${policy}: nothing stored twice`);
      tt.deepEqual(await snapshot(target), before);
      // A retry of a batch whose first part was stored writes the rest once.
      await store.saveChatMessages('u', 's', 'a', [batch[3]!, withId('answer', bot('answer'))]);
      await store.saveChatMessages('u', 's', 'a', [batch[3]!, withId('answer', bot('answer')), withId('next', user('next'))]);
      tt.deepEqual(idsOf(await sessionMessages(store, 'u', 's')), ['q', 'call', 't1', 't2', 'answer', 'next'], policy);
    }
  });

  t('under skip, a write whose first message was skipped can be sent again: that message stays skipped, nothing moves', async (tt, open) => {
    const target = await open({ consecutiveRoles: 'skip' });
    const { store } = target;
    await store.saveChatMessage('u', 's', 'a', withId('q1', user('q1')));
    // q2 repeats the stored q1 and is skipped; a2 is appended.
    const batch: MessageInput[] = [withId('q2', user('q2')), withId('a2', bot('a2'))];
    const window = await store.saveChatMessages('u', 's', 'a', batch);
    tt.deepEqual(idsOf(await sessionMessages(store, 'u', 's')), ['q1', 'a2']);
    const before = await snapshot(target);
    // Sent again (its answer lost): the last stored message is now a2, which q2 does not repeat; it
    // is still the message the first attempt skipped, and must not land after a2.
    tt.deepEqual(await store.saveChatMessages('u', 's', 'a', batch), window, 'the retry answers as the first write did');
    tt.deepEqual(idsOf(await sessionMessages(store, 'u', 's')), ['q1', 'a2']);
    tt.deepEqual(await snapshot(target), before);
    // The same through upsertMessages: a3 repeats a2 and is skipped, q3 is appended; then sent again.
    const upsert: MessageInput[] = [withId('a3', bot('a3')), withId('q3', user('q3'), { n: 3 })];
    const first = await store.upsertMessages('u', 's', 'a', upsert);
    tt.deepEqual(idsOf(first), ['q3']);
    tt.deepEqual(await store.upsertMessages('u', 's', 'a', upsert), first, 'the upsert sent again');
    tt.deepEqual(idsOf(await sessionMessages(store, 'u', 's')), ['q1', 'a2', 'q3']);
    // Not a resend: the later message's content differs, so it is replaced in place and the new one
    // before it is appended as any new message is.
    await store.upsertMessages('u', 's', 'a', [withId('a5', bot('a5')), withId('q3', user('q3 edited'), { n: 3 })]);
    tt.deepEqual(idsOf(await sessionMessages(store, 'u', 's')), ['q1', 'a2', 'q3', 'a5']);
    tt.is((await store.getMessage('u', 's', 'q3'))?.content[0]?.text, 'q3 edited');
  });

  t('the same id with another role, content or metadata, or by another agent, is a ConflictError and nothing of the batch is written', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    await store.saveChatMessage('u1', 's1', 'a1', withId('m', user('with metadata'), { model: 'm1' }));
    const cases: Array<[string, MessageInput]> = [
      ['other content', withId('x1', bot('x1 changed'))],
      ['other role', withId('x1', user('x1'))],
      ['metadata added', withId('x1', bot('x1'), { model: 'm' })],
      ['metadata changed', withId('m', user('with metadata'), { model: 'm2' })],
      ['metadata removed', withId('m', user('with metadata'))],
      ['held by another agent', withId('y0', user('y0'))],
    ];
    for (const [what, message] of cases) {
      // The fresh message follows with the other role, so no consecutive-role rule is involved.
      const fresh = withId('fresh', message.role === 'user' ? bot('fresh') : user('fresh'));
      await refused(tt, target, () => store.saveChatMessages('u1', 's1', 'a1', [message, fresh]), 'CONFLICT', `${what} (batch)`);
      await refused(tt, target, () => store.saveChatMessage('u1', 's1', 'a1', message), 'CONFLICT', what);
    }
    const error = await tt.throwsAsync(() => store.saveChatMessage('u1', 's1', 'a1', withId('x1', bot('other'))));
    tt.true(error instanceof ConvostoreError);
    tt.is(error!.name, 'ConflictError');
    tt.is((error as ConvostoreError).code, 'CONFLICT');
    tt.is(await store.getMessage('u1', 's1', 'fresh'), null, 'the refused batch left no trace');
  });

  t('validation comes first: a bad message is refused even where the consecutive-role rule would skip it', async (tt, open) => {
    const target = await seeded(open); // u1/s1/a1 ends with an assistant message; the policy is skip
    const { store } = target;
    const bad: Array<[string, unknown]> = [
      ['bad content', { role: 'assistant', content: [{ n: Number.NaN }] }],
      ['bad id', { id: '', role: 'assistant', content: 'x' }],
      ['id with NUL', { id: 'a\0b', role: 'assistant', content: 'x' }],
      ['bad metadata', { role: 'assistant', content: 'x', metadata: [1] }],
      ['metadata null', { role: 'assistant', content: 'x', metadata: null }],
      ['bad timestamp', { role: 'assistant', content: 'x', timestamp: -5 }],
    ];
    for (const [what, message] of bad) {
      await refused(tt, target, () => store.saveChatMessage('u1', 's1', 'a1', message as never), 'VALIDATION', what);
      await refused(tt, target, () => store.saveChatMessages('u1', 's1', 'a1', [bot('ok'), message as never]), 'VALIDATION', `${what}, repeating inside a batch`);
      await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', [message as never]), 'VALIDATION', `${what} (upsert)`);
    }
    // A stored id re-sent with a bad shape is bad input, not a retry or a conflict.
    await refused(tt, target, () => store.saveChatMessage('u1', 's1', 'a1', { id: 'x3', role: 'assistant', content: [{ f: () => 1 }] } as never), 'VALIDATION', 'a retry with bad content');
  });

  t('the same id twice in one write is refused', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const twice = [withId('d', user('d')), withId('d', bot('d'))];
    await refused(tt, target, () => store.saveChatMessages('u1', 's1', 'a1', twice), 'VALIDATION', 'saveChatMessages');
    await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', twice), 'VALIDATION', 'upsertMessages');
    await refused(tt, target, () => store.saveChatMessages('u1', 's1', 'a1', [withId('x3', bot('x3')), withId('x3', bot('x3'))]), 'VALIDATION', 'a stored id twice');
  });

  t('bad message ids are refused with a validation error and change nothing', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    for (const id of ['', 'x'.repeat(257), 'nul\0', 'lone\uD800', '\uDC00', 42, null, {}, ['a']] as unknown[]) {
      const what = JSON.stringify(id) ?? String(id);
      await refused(tt, target, () => store.saveChatMessage('u1', 's9', 'a1', { id, role: 'user', content: 'x' } as never), 'VALIDATION', what);
      await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', [{ id, role: 'user', content: 'x' } as never]), 'VALIDATION', `upsert ${what}`);
    }
  });
}
