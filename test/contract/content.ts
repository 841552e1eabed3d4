/** Content: every JSON shape round-trips, string content, copies, the size limit. */
import { TooLargeError, type ConversationMessage } from '../../src/index.js';
import { user, bot, texts, seeded, refused, type Declare } from './support.js';

export function contentTests(t: Declare): void {
  t('content of every shape round-trips exactly', async (tt, open) => {
    const { store } = await open({ consecutiveRoles: 'keep' });
    const shapes: ConversationMessage[] = [
      user('plain text'),
      { role: 'assistant', content: [{ text: 'Ünïcødé ✓ 𝄞 emoji 👩‍💻 and "quotes" \\ and \n newlines\u2028' }] },
      { role: 'user', content: [{ text: 'look' }, { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } }] },
      {
        role: 'assistant',
        content: [
          { toolUse: { toolUseId: 't-1', name: 'weather', input: { city: 'Zürich', days: [1, 2.5, -3, 1e21], ok: true, none: null } } },
        ],
      },
      { role: 'user', content: [{ toolResult: { toolUseId: 't-1', content: [{ json: { temp: -4.25, deep: [[[[{}]]]] } }], status: 'success' } }] },
      { role: 'assistant', content: [] },
      { role: 'user', content: [{}] },
      { role: 'assistant', content: [{ text: '' }, { text: 'x'.repeat(10_000) }] },
      { role: 'user', content: [{ weird: { 'key with spaces': 1, '': 'empty key', __proto__x: 2, 'ключ': 'значение' } }] },
    ];
    for (const m of shapes) await store.saveChatMessage('u', 's', 'a', m);
    tt.deepEqual(await store.fetchChat('u', 's', 'a'), shapes);
    tt.deepEqual(await store.fetchChat('u', 's', 'a', 2), shapes.slice(-2));
  });

  t('string content is stored as [{ text }]', async (tt, open) => {
    const { store } = await open();
    const window = await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'hello' });
    tt.deepEqual(window, [{ role: 'user', content: [{ text: 'hello' }] }]);
    tt.deepEqual(await store.fetchChat('u', 's', 'a'), window);
  });

  t('object keys whose value is undefined are dropped, as JSON does', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: [{ text: 'a', image: undefined } as never] });
    tt.deepEqual(await store.fetchChat('u', 's', 'a'), [user('a')]);
  });

  t('what is read back is a copy: mutating it or the input changes nothing stored', async (tt, open) => {
    const { store } = await open();
    const input = { role: 'user' as const, content: [{ text: 'original', meta: { n: 1 } }] };
    const window = await store.saveChatMessage('u', 's', 'a', input);
    input.content[0]!.meta.n = 2;
    (window[0]!.content[0] as { text: string }).text = 'changed';
    tt.deepEqual(await store.fetchChat('u', 's', 'a'), [{ role: 'user', content: [{ text: 'original', meta: { n: 1 } }] }]);
  });

  t('a message of 350 KB is accepted; over the backend limit is refused whole, naming the limit', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    tt.true(store.maxMessageBytes >= 350_000);
    const big = 'é'.repeat(175_000); // 350,000 bytes of UTF-8
    await store.saveChatMessage('u1', 's1', 'a1', { role: 'user', content: big });
    tt.is((await store.fetchChat('u1', 's1', 'a1', 2))[1]!.content[0]!.text, big);

    const tooBig = { role: 'assistant' as const, content: 'x'.repeat(store.maxMessageBytes + 1) };
    await refused(tt, target, () => store.saveChatMessage('u1', 's1', 'a1', tooBig), 'TOO_LARGE', 'single message');
    await refused(
      tt,
      target,
      () => store.saveChatMessages('u1', 's1', 'a1', [bot('fits'), user('fits'), tooBig]),
      'TOO_LARGE',
      'batch with one message over the limit',
    );
    const error = await tt.throwsAsync(() => store.saveChatMessage('u1', 's3', 'a1', tooBig), { instanceOf: TooLargeError });
    tt.true(error!.message.includes(String(store.maxMessageBytes)), error!.message);
    tt.is(error!.limit, store.maxMessageBytes);
  });

  t('a message exactly at the limit is accepted', async (tt, open) => {
    const { store } = await open();
    const overhead = JSON.stringify([{ text: '' }]).length;
    const content = 'y'.repeat(store.maxMessageBytes - overhead);
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content });
    tt.is(texts(await store.fetchChat('u', 's', 'a'))[0]!.length, content.length);
  });
}
