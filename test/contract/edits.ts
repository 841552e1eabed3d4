/**
 * Edits (v2): getMessage, updateMessage, upsertMessages (continuations, regenerate with deleteIds,
 * expectLastIds, per-call consecutiveRoles), deleteMessages and truncateAfter.
 */
import type { ContractTarget } from './support.js';
import { TestClock } from '../helpers/clock.js';
import { bot, codeOf, idDialogue, idsOf, refused, seeded, sessionMessages, texts, tool, user, withId, type Declare } from './support.js';

const conversationIds = async (target: ContractTarget, agentId = 'a1', sessionId = 's1') =>
  idsOf((await target.store.fetchChatPage('u1', sessionId, agentId, { order: 'oldest', limit: 1000 })).items);

export function editsTests(t: Declare): void {
  // ---------------------------------------------------------------- getMessage

  t('getMessage finds a message of any agent of the session by id; an unknown id or another session gives null', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const y1 = await store.getMessage('u1', 's1', 'y1');
    tt.like(y1, { agentId: 'a2', id: 'y1', role: 'assistant', content: [{ text: 'y1' }], seq: 2 });
    tt.is(typeof y1!.timestamp, 'number');
    tt.is(await store.getMessage('u1', 's1', 'nope'), null);
    tt.is(await store.getMessage('u1', 's1', 'z0'), null, 'z0 is in s2');
    tt.is(await store.getMessage('u2', 's1', 'x0'), null, 'another user');
    tt.is(await store.getMessage('u1', 'nowhere', 'x0'), null);
  });

  // ---------------------------------------------------------------- updateMessage

  t('updateMessage replaces content and/or metadata in place; id, role, position and timestamp stay', async (tt, open) => {
    const clock = new TestClock(1_000);
    const { store } = await open({ clock: clock.read });
    await store.saveChatMessages('u', 's', 'a', [withId('q', user('q')), withId('r', bot('draft'), { model: 'm' }), withId('f', user('follow-up'))]);
    const before = await store.getMessage('u', 's', 'r');
    clock.advance(5_000);

    const contentOnly = await store.updateMessage('u', 's', 'r', { content: [{ text: 'final' }, { image: 'x' }] });
    tt.deepEqual(contentOnly, { ...before!, content: [{ text: 'final' }, { image: 'x' }] }, 'metadata kept');
    const metadataOnly = await store.updateMessage('u', 's', 'r', { metadata: { model: 'm', tokens: 7 } });
    tt.deepEqual(metadataOnly, { ...before!, content: [{ text: 'final' }, { image: 'x' }], metadata: { model: 'm', tokens: 7 } }, 'content kept');
    const both = await store.updateMessage('u', 's', 'r', { content: 'as a string', metadata: null });
    tt.deepEqual(both, { agentId: 'a', id: 'r', role: 'assistant', seq: 2, timestamp: 1_000, content: [{ text: 'as a string' }] });
    tt.false('metadata' in both, 'metadata: null removes it');
    tt.deepEqual(await store.getMessage('u', 's', 'r'), both);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['q', 'as a string', 'follow-up'], 'position kept');
    tt.is((await store.listSessions('u')).items[0]!.lastActivityAt, 1_000, 'an edit is no new activity');
  });

  t('updateMessage refuses an unknown id with NotFoundError and an empty or bad update with a validation error', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    await refused(tt, target, () => store.updateMessage('u1', 's1', 'nope', { content: 'x' }), 'NOT_FOUND', 'unknown id');
    await refused(tt, target, () => store.updateMessage('u1', 's2', 'x0', { content: 'x' }), 'NOT_FOUND', 'id of another session');
    await refused(tt, target, () => store.updateMessage('u1', 's1', 'x0', {}), 'VALIDATION', 'nothing to update');
    await refused(tt, target, () => store.updateMessage('u1', 's1', 'x0', { content: [{ n: Number.NaN }] }), 'VALIDATION', 'bad content');
    await refused(tt, target, () => store.updateMessage('u1', 's1', 'x0', { content: 5 } as never), 'VALIDATION', 'content a number');
    await refused(tt, target, () => store.updateMessage('u1', 's1', 'x0', 'x' as never), 'VALIDATION', 'update a string');
    await refused(tt, target, () => store.updateMessage('u1', 's1', 'x0', { role: 'assistant' } as never), 'VALIDATION', 'a role is not updatable');
    const error = await tt.throwsAsync(() => store.updateMessage('u1', 's1', 'nope', { content: 'x' }));
    tt.is(error!.name, 'NotFoundError');
  });

  // ---------------------------------------------------------------- upsertMessages

  t('upsertMessages appends new messages and resolves to them as stored; skipped ones are absent', async (tt, open) => {
    const { store } = await open({ clock: () => 2_000 });
    const stored = await store.upsertMessages('u', 's', 'a', [withId('q', user('q')), withId('r', bot('r'), { m: 1 }), { role: 'user', content: 'made id' }]);
    tt.deepEqual(stored.slice(0, 2), [
      { id: 'q', role: 'user', content: [{ text: 'q' }], seq: 1, timestamp: 2_000 },
      { id: 'r', role: 'assistant', content: [{ text: 'r' }], metadata: { m: 1 }, seq: 2, timestamp: 2_000 },
    ]);
    tt.like(stored[2], { role: 'user', seq: 3 });
    tt.true(stored[2]!.id.length >= 26);
    tt.deepEqual(await store.upsertMessages('u', 's', 'a', [withId('again', user('repeat'))]), [], 'skipped under the default policy');
    tt.is(await store.getMessage('u', 's', 'again'), null);
    tt.deepEqual(await store.upsertMessages('u', 's', 'a', []), []);
  });

  t('upsertMessages replaces a stored message in place (a streamed continuation), role kept, no repeat', async (tt, open) => {
    const clock = new TestClock(1_000);
    const { store } = await open({ clock: clock.read, consecutiveRoles: 'throw' });
    await store.upsertMessages('u', 's', 'a', [withId('q', user('q')), withId('r', bot('Hel'))]);
    clock.advance(100);
    for (const text of ['Hello', 'Hello, wor', 'Hello, world']) {
      const [m] = await store.upsertMessages('u', 's', 'a', [withId('r', bot(text), { streaming: text !== 'Hello, world' })]);
      tt.deepEqual(m, { id: 'r', role: 'assistant', content: [{ text }], metadata: { streaming: text !== 'Hello, world' }, seq: 2, timestamp: 1_000 });
    }
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['q', 'Hello, world']);
    // A replacement and a new message in one call.
    await store.upsertMessages('u', 's', 'a', [withId('r', bot('Hello!')), withId('q2', user('next'))]);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['q', 'Hello!', 'next']);
  });

  t('upsertMessages refuses another role or another agent for a stored id, writing nothing', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', [withId('x1', user('x1 as user'))]), 'CONFLICT', 'another role');
    await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', [withId('x3', bot('replaced')), withId('y0', user('y0'))]), 'CONFLICT', 'y0 is a2’s');
    await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a2', [withId('x0', user('x0'))]), 'CONFLICT', 'x0 is a1’s');
  });

  t('upsertMessages with deleteIds replaces the last answer on a regenerate; unknown ids and other conversations’ ids are ignored', async (tt, open) => {
    const target = await seeded(open); // a1: x0 x1 x2 x3 (x3 an assistant answer), policy skip
    const { store } = target;
    const regenerated = await store.upsertMessages('u1', 's1', 'a1', [withId('x3b', bot('regenerated'))], { deleteIds: ['x3', 'nope', 'y0', 'z0'] });
    tt.deepEqual(idsOf(regenerated), ['x3b'], 'not skipped: x3 went first');
    tt.deepEqual(await conversationIds(target), ['x0', 'x1', 'x2', 'x3b']);
    tt.deepEqual(await conversationIds(target, 'a2'), ['y0', 'y1'], "another agent's id in deleteIds is ignored");
    tt.deepEqual(await conversationIds(target, 'a1', 's2'), ['z0', 'z1', 'z2']);
    tt.is(await store.getMessage('u1', 's1', 'x3'), null);
    // Deleting and re-sending one id appends it anew at the end.
    await store.upsertMessages('u1', 's1', 'a1', [withId('x1', bot('x1 again'))], { deleteIds: ['x1'], consecutiveRoles: 'keep' });
    tt.deepEqual(await conversationIds(target), ['x0', 'x2', 'x3b', 'x1']);
    // Only deleting.
    tt.deepEqual(await store.upsertMessages('u1', 's1', 'a1', [], { deleteIds: ['x1', 'x3b'] }), []);
    tt.deepEqual(await conversationIds(target), ['x0', 'x2']);
  });

  t('expectLastIds: the write happens only while the newest stored messages are exactly those ids', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    for (const [what, expectLastIds] of [
      ['not the newest', ['x2']],
      ['wrong order', ['x3', 'x2']],
      ['not a suffix', ['x1', 'x3']],
      ['longer than the conversation', ['extra', 'x0', 'x1', 'x2', 'x3']],
      ['[] while not empty', []],
      ['another agent’s newest', ['y1']],
    ] as Array<[string, string[]]>) {
      await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', [withId('n', user('n'))], { expectLastIds }), 'CONFLICT', what);
      await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', [], { expectLastIds, deleteIds: ['x3'] }), 'CONFLICT', `${what}, delete only`);
    }
    await store.upsertMessages('u1', 's1', 'a1', [withId('x4', user('x4'))], { expectLastIds: ['x3'] });
    await store.upsertMessages('u1', 's1', 'a1', [withId('x5', bot('x5'))], { expectLastIds: ['x0', 'x1', 'x2', 'x3', 'x4'] });
    await store.upsertMessages('u1', 's1', 'new', [withId('n0', user('n0'))], { expectLastIds: [] });
    // The Agents SDK's rewrite of a suffix it saw: expectLastIds and deleteIds together.
    await store.upsertMessages('u1', 's1', 'a1', [withId('x4b', user('x4b')), withId('x5b', bot('x5b'))], {
      expectLastIds: ['x4', 'x5'],
      deleteIds: ['x4', 'x5'],
    });
    tt.deepEqual(await conversationIds(target), ['x0', 'x1', 'x2', 'x3', 'x4b', 'x5b']);
    tt.deepEqual(await conversationIds(target, 'new'), ['n0']);
  });

  t('expectLastIds compares with live messages: TTL-expired ones do not count', async (tt, open) => {
    const clock = new TestClock(10_000);
    const target = await open({ clock: clock.read, retention: { ttlMs: 1_000 } });
    const { store } = target;
    await store.saveChatMessages('u', 's', 'a', [withId('old-q', user('q')), withId('old-r', bot('r'))]);
    clock.advance(2_000);
    tt.is(await codeOf(() => store.upsertMessages('u', 's', 'a', [], { expectLastIds: ['old-r'] })), 'CONFLICT', 'expired');
    await store.upsertMessages('u', 's', 'a', [withId('q', user('q'))], { expectLastIds: [] });
    await store.upsertMessages('u', 's', 'a', [withId('r', bot('r'))], { expectLastIds: ['q'] });
    tt.deepEqual(idsOf((await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items), ['q', 'r']);
  });

  t('upsertMessages takes a per-call consecutive-role policy', async (tt, open) => {
    const target = await seeded(open); // policy skip; a1 ends with an assistant message
    const { store } = target;
    await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', [withId('b', bot('b'))], { consecutiveRoles: 'throw' }), 'CONSECUTIVE_ROLE', 'throw for this call');
    await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', [], { consecutiveRoles: 'sometimes' as never }), 'VALIDATION', 'bad policy');
    // Parallel tool calls, reasoning then a call: written as they are.
    await store.upsertMessages('u1', 's1', 'a1', [withId('b1', bot('reasoning')), withId('b2', bot('call')), withId('t', tool('t'))], { consecutiveRoles: 'keep' });
    tt.deepEqual((await conversationIds(target)).slice(-3), ['b1', 'b2', 't']);
    const throwing = await open({ consecutiveRoles: 'throw' });
    await throwing.store.upsertMessages('u', 's', 'a', [user('1'), user('2')], { consecutiveRoles: 'skip' });
    tt.deepEqual(texts(await throwing.store.fetchChat('u', 's', 'a')), ['1']);
  });

  t('in an upsert the consecutive-role rule meets only the appended messages: replaced ones are edited in place, whatever their roles', async (tt, open) => {
    const target = await open(); // policy skip
    const { store } = target;
    await store.upsertMessages('u', 's', 'a', [withId('q', user('q')), withId('r1', bot('r1')), withId('r2', bot('r2'))], { consecutiveRoles: 'keep' });
    await store.upsertMessages('u', 's', 'a', [withId('r1', bot('r1 edited')), withId('r2', bot('r2 edited'))]);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['q', 'r1 edited', 'r2 edited'], 'two consecutive assistant messages both edited');
    // A replaced message is not the predecessor of the new one: the new one meets the stored last (r2).
    await store.upsertMessages('u', 's', 'a', [withId('q2', user('q2')), withId('r2', bot('r2 again')), withId('a3', bot('a3')), withId('a4', bot('a4'))]);
    tt.deepEqual(idsOf(await sessionMessages(store, 'u', 's')), ['q', 'r1', 'r2', 'q2', 'a3'], 'q2 appended, a3 after it, a4 repeats a3: skipped');
    tt.is((await store.getMessage('u', 's', 'r2'))?.content[0]?.text, 'r2 again');
    // throw: an appended repeat refuses the whole upsert, its edits included.
    const before = await sessionMessages(store, 'u', 's');
    await refused(tt, target, () => store.upsertMessages('u', 's', 'a', [withId('r1', bot('r1 lost')), withId('q5', user('q5')), withId('q6', user('q6'))], { consecutiveRoles: 'throw' }), 'CONSECUTIVE_ROLE', 'q6 repeats q5');
    tt.deepEqual(await sessionMessages(store, 'u', 's'), before);
    // Sent again after its answer was lost: what the first attempt skipped stays skipped (x1 repeated
    // the stored a3, y2 the appended y1), though neither repeats what is stored last now.
    const resend = [withId('x1', bot('x1')), withId('y1', user('y1')), withId('y2', user('y2'))];
    const first = await store.upsertMessages('u', 's', 'a', resend);
    tt.deepEqual(idsOf(first), ['y1']);
    tt.deepEqual(await store.upsertMessages('u', 's', 'a', resend), first);
    tt.deepEqual(idsOf(await sessionMessages(store, 'u', 's')), ['q', 'r1', 'r2', 'q2', 'a3', 'y1']);
  });

  t('a refused upsert writes nothing: conflicts, stale expectLastIds, bad options, repeated roles', async (tt, open) => {
    const target = await seeded(open, { consecutiveRoles: 'throw' });
    const { store } = target;
    const write = (options: object, messages = [withId('n1', user('n1')), withId('n2', bot('n2'))]) => () =>
      store.upsertMessages('u1', 's1', 'a1', messages, options);
    await refused(tt, target, write({ deleteIds: ['x3'] }, [withId('n1', bot('n1')), withId('x1', user('x1'))]), 'CONFLICT', 'a delete, an append, then a role conflict');
    await refused(tt, target, write({ deleteIds: ['x2', 'x3'], expectLastIds: ['x2'] }), 'CONFLICT', 'stale expectLastIds with deletes');
    await refused(tt, target, write({ deleteIds: ['x3'] }, [withId('n1', user('n1')), withId('n2', user('n2'))]), 'CONSECUTIVE_ROLE', 'repeat after a delete');
    await refused(tt, target, write({ deleteIds: 'x3' }), 'VALIDATION', 'deleteIds not an array');
    await refused(tt, target, write({ deleteIds: ['x3', ''] }), 'VALIDATION', 'a bad id in deleteIds');
    await refused(tt, target, write({ expectLastIds: ['x3', 'x3'] }), 'VALIDATION', 'an id twice in expectLastIds');
    await refused(tt, target, write({ expectLastIds: [42] }), 'VALIDATION', 'a bad id in expectLastIds');
    await refused(tt, target, write('x' as never), 'VALIDATION', 'options a string');
    await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', 'x' as never), 'VALIDATION', 'messages not an array');
  });

  t('concurrent upserts expecting the same last id: exactly one wins', async (tt, open) => {
    const { store } = await open({ consecutiveRoles: 'keep' });
    await store.saveChatMessage('u', 's', 'a', withId('last', user('last')));
    const writers = 6;
    const outcomes = await Promise.allSettled(
      Array.from({ length: writers }, (_, i) => store.upsertMessages('u', 's', 'a', [withId(`w${i}`, bot(`w${i}`))], { expectLastIds: ['last'] })),
    );
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    tt.is(won.length, 1, 'one writer won');
    for (const o of outcomes) if (o.status === 'rejected') tt.is((o.reason as { code?: string }).code, 'CONFLICT');
    tt.deepEqual(idsOf((await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items), ['last', `w${won[0]}`]);
  });

  // ---------------------------------------------------------------- deleteMessages

  t('deleteMessages removes messages by id across the session’s agents and counts them; unknown ids are ignored', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    tt.is(await store.deleteMessages('u1', 's1', ['x1', 'y0', 'nope', 'z0']), 2);
    tt.deepEqual(await conversationIds(target), ['x0', 'x2', 'x3']);
    tt.deepEqual(await conversationIds(target, 'a2'), ['y1']);
    tt.deepEqual(await conversationIds(target, 'a1', 's2'), ['z0', 'z1', 'z2'], 'another session is untouched');
    tt.deepEqual((await store.fetchChatPage('u1', 's1', 'a1', { order: 'oldest' })).items.map((m) => m.seq), [1, 3, 4], 'the others keep their positions');
    tt.is(await store.deleteMessages('u1', 's1', []), 0);
    tt.is(await store.deleteMessages('u1', 's1', ['x1']), 0, 'already gone');
    tt.is(await store.deleteMessages('u1', 'nowhere', ['x0']), 0);
    tt.is((await store.listSessions('u1')).items.find((s) => s.sessionId === 's1')!.messageCount, 4);
    await refused(tt, target, () => store.deleteMessages('u1', 's1', 'x0' as never), 'VALIDATION', 'not an array');
    await refused(tt, target, () => store.deleteMessages('u1', 's1', ['x0', '']), 'VALIDATION', 'a bad id among good ones');
  });

  // ---------------------------------------------------------------- truncateAfter

  t('truncateAfter removes what the message’s conversation holds after it, or from it when inclusive', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    await store.saveChatMessages('u1', 's1', 'a2', idDialogue(2, 'w').map((m) => ({ ...m, id: `late-${m.id}` })), undefined);
    tt.is(await store.truncateAfter('u1', 's1', 'x1'), 2);
    tt.deepEqual(await conversationIds(target), ['x0', 'x1']);
    tt.deepEqual(await conversationIds(target, 'a2'), ['y0', 'y1', 'late-w0', 'late-w1'], 'other agents keep everything, even later messages');
    tt.is(await store.truncateAfter('u1', 's1', 'x1'), 0, 'nothing after the last one');
    tt.is(await store.truncateAfter('u1', 's1', 'y1', { inclusive: true }), 3);
    tt.deepEqual(await conversationIds(target, 'a2'), ['y0']);
    // Edit and regenerate: the conversation goes on from the kept message.
    await store.saveChatMessage('u1', 's1', 'a1', withId('x2b', user('edited')));
    tt.deepEqual(texts(await store.fetchChat('u1', 's1', 'a1')), ['x0', 'x1', 'edited']);
  });

  t('truncateAfter refuses an unknown id with NotFoundError and bad options with a validation error', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    await refused(tt, target, () => store.truncateAfter('u1', 's1', 'nope'), 'NOT_FOUND', 'unknown id');
    await refused(tt, target, () => store.truncateAfter('u1', 's2', 'x0'), 'NOT_FOUND', 'id of another session');
    await refused(tt, target, () => store.truncateAfter('u1', 's1', 'x0', { inclusive: 'yes' } as never), 'VALIDATION', 'inclusive not a boolean');
    await refused(tt, target, () => store.truncateAfter('u1', 's1', ''), 'VALIDATION', 'empty id');
    tt.is((await sessionMessages(store, 'u1', 's1')).length, 6);
  });
}
