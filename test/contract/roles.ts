/** Roles and Agent Squad's consecutive-role rule (skip, keep, throw), and v2's system and tool roles. */
import { ConsecutiveRoleError, ValidationError } from '../../src/index.js';
import { user, bot, system, tool, texts, refused, type Declare } from './support.js';

export function rolesTests(t: Declare): void {
  t('a consecutive same-role message is skipped by default and the history is unchanged', async (tt, open) => {
    const notices: string[] = [];
    const { store } = await open({ logger: (m) => notices.push(m) });
    await store.saveChatMessage('u', 's', 'a', user('first'));
    const window = await store.saveChatMessage('u', 's', 'a', user('second'));
    tt.deepEqual(texts(window), ['first']);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['first']);
    tt.is(notices.length, 1);
    tt.regex(notices[0]!, /Consecutive user message detected for agent a/);
    // Another conversation's last role does not matter.
    await store.saveChatMessage('u', 's', 'b', user('other agent'));
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'b')), ['other agent']);
  });

  t('saveChatMessages skips consecutive roles inside the batch and against the stored last one', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'a', user('u0'));
    const window = await store.saveChatMessages('u', 's', 'a', [user('dup'), bot('a1'), bot('dup'), user('u2'), bot('a3')]);
    tt.deepEqual(texts(window), ['u0', 'a1', 'u2', 'a3']);
    const page = await store.fetchChatPage('u', 's', 'a', { order: 'oldest' });
    tt.deepEqual(page.items.map((m) => m.seq), [1, 2, 3, 4], 'positions have no gaps');
  });

  t("consecutiveRoles: 'keep' stores them", async (tt, open) => {
    const { store } = await open({ consecutiveRoles: 'keep' });
    await store.saveChatMessage('u', 's', 'a', user('1'));
    await store.saveChatMessage('u', 's', 'a', user('2'));
    await store.saveChatMessages('u', 's', 'a', [user('3'), user('4')]);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['1', '2', '3', '4']);
  });

  t("consecutiveRoles: 'throw' refuses them and writes nothing", async (tt, open) => {
    const target = await open({ consecutiveRoles: 'throw' });
    const { store } = target;
    await store.saveChatMessage('u1', 's1', 'a1', user('1'));
    const e1 = await tt.throwsAsync(() => store.saveChatMessage('u1', 's1', 'a1', user('2')), { instanceOf: ConsecutiveRoleError });
    tt.is(e1!.code, 'CONSECUTIVE_ROLE');
    tt.true(e1 instanceof ValidationError);
    await refused(tt, target, () => store.saveChatMessages('u1', 's1', 'a1', [user('x'), bot('y')]), 'CONSECUTIVE_ROLE', 'first of batch repeats stored role');
    await refused(tt, target, () => store.saveChatMessages('u1', 's1', 'a1', [bot('x'), bot('y')]), 'CONSECUTIVE_ROLE', 'repeat inside batch');
    await store.saveChatMessages('u1', 's1', 'a1', [bot('2'), user('3')]);
    tt.deepEqual(texts(await store.fetchChat('u1', 's1', 'a1')), ['1', '2', '3']);
  });

  // ---------------------------------------------------------------- v2: system and tool

  t('system and tool messages are stored and read back as written; only assistant text is tagged', async (tt, open) => {
    const { store } = await open();
    const call = { role: 'assistant' as const, content: [{ toolUse: { toolUseId: 't1', name: 'weather', input: {} } }] };
    const history = [system('be brief'), user('weather?'), call, tool('t1'), bot('sunny')];
    tt.deepEqual(await store.saveChatMessages('u', 's', 'a', history), history);
    tt.deepEqual(await store.fetchChat('u', 's', 'a'), history);
    tt.deepEqual(await store.fetchAllChats('u', 's'), [
      system('be brief'),
      user('weather?'),
      { role: 'assistant', content: [{ text: '[a] ' }, ...call.content] },
      tool('t1'),
      bot('[a] sunny'),
    ]);
    const page = await store.fetchChatPage('u', 's', 'a', { order: 'oldest' });
    tt.deepEqual(page.items.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'assistant']);
  });

  t('two tool results in a row are both stored, and an assistant message after a tool message is not a repeat', async (tt, open) => {
    for (const policy of ['skip', 'throw'] as const) {
      const { store } = await open({ consecutiveRoles: policy });
      const call = { role: 'assistant' as const, content: [{ toolUse: { toolUseId: 't1', name: 'a' } }, { toolUse: { toolUseId: 't2', name: 'b' } }] };
      // In one batch…
      await store.saveChatMessages('u', 's', 'batch', [user('q'), call, tool('t1'), tool('t2'), bot('done')]);
      tt.deepEqual((await store.fetchChat('u', 's', 'batch')).map((m) => m.role), ['user', 'assistant', 'tool', 'tool', 'assistant'], policy);
      // …and one message at a time, against the stored last one.
      for (const m of [user('q'), call, tool('t1'), tool('t2'), bot('done'), system('note'), system('another note'), bot('after system')]) {
        await store.saveChatMessage('u', 's', 'single', m);
      }
      tt.deepEqual(
        (await store.fetchChat('u', 's', 'single')).map((m) => m.role),
        ['user', 'assistant', 'tool', 'tool', 'assistant', 'system', 'system', 'assistant'],
        `${policy}: system messages never repeat either, and the assistant after them is compared with the system message`,
      );
    }
  });

  t('a user or assistant message repeating the last message of any role is still a repeat', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', [user('q'), tool('t'), user('q again')]);
    tt.is((await store.fetchChat('u', 's', 'a')).length, 3, 'user after tool is not a repeat');
    tt.deepEqual(texts(await store.saveChatMessage('u', 's', 'a', user('third user'))).at(-1), 'q again', 'user after user is skipped');
    await store.saveChatMessages('u', 's', 'a', [bot('answer'), bot('repeated')]);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a', 2)), ['q again', 'answer']);

    const throwing = await open({ consecutiveRoles: 'throw' });
    await throwing.store.saveChatMessages('u1', 's1', 'a1', [user('q'), tool('t')]);
    await refused(tt, throwing, () => throwing.store.saveChatMessages('u1', 's1', 'a1', [bot('a'), bot('b')]), 'CONSECUTIVE_ROLE', 'assistant twice after a tool');
    await throwing.store.saveChatMessage('u1', 's1', 'a1', bot('a'));
    await refused(tt, throwing, () => throwing.store.saveChatMessage('u1', 's1', 'a1', bot('b')), 'CONSECUTIVE_ROLE', 'assistant after assistant');
  });

  t('maxHistorySize counts messages of every role', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', [system('s'), user('u'), bot('call'), tool('t1'), tool('t2'), bot('answer')]);
    tt.deepEqual((await store.fetchChat('u', 's', 'a', 4)).map((m) => m.role), ['assistant', 'tool', 'tool', 'assistant']);
    tt.deepEqual((await store.fetchChat('u', 's', 'a', 3)).map((m) => m.role), ['tool', 'assistant']);
    tt.is((await store.fetchChat('u', 's', 'a', 6)).length, 6);
    tt.deepEqual((await store.saveChatMessage('u', 's', 'a', tool('t3'), 2)).map((m) => m.role), ['assistant', 'tool']);
  });
}
