/** Roles and Agent Squad's consecutive-role rule (skip, keep, throw), and v2's system and tool roles. */
import { ConsecutiveRoleError, ValidationError } from '../../src/index.js';
import { user, bot, texts, refused, type Declare } from './support.js';

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
}
