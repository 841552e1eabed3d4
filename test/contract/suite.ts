/**
 * The behavioural contract (../shared/CONTRACT.md), written once and run against every backend.
 * A backend test file calls `contractSuite` with a factory that opens a fresh, empty store.
 */
import test, { type ExecutionContext } from 'ava';
import {
  ClosedError,
  ConsecutiveRoleError,
  TooLargeError,
  ValidationError,
  type ChatStore,
  type ConversationMessage,
  type ErrorCode,
  type StoreOptions,
} from '../../src/index.js';
import { TestClock } from '../helpers/clock.js';

export interface ContractTarget {
  store: ChatStore;
  /** Rows in the backend's own storage, read around the store (e.g. SELECT count(*) over every table). */
  rawCount?: () => Promise<number>;
  /** Releases anything the factory opened besides the store. */
  dispose?: () => Promise<void>;
}

export type Factory = (options: StoreOptions) => Promise<ContractTarget>;

const quiet = { logger: null } satisfies StoreOptions;
const user = (text: string) => ({ role: 'user' as const, content: [{ text }] });
const bot = (text: string) => ({ role: 'assistant' as const, content: [{ text }] });
const texts = (messages: ConversationMessage[]) => messages.map((m) => m.content[0]?.text as string | undefined);

/** Alternating user/assistant messages u0, a1, u2, ... */
function dialogue(n: number, prefix = ''): ConversationMessage[] {
  return Array.from({ length: n }, (_, i) => (i % 2 === 0 ? user(`${prefix}${i}`) : bot(`${prefix}${i}`)));
}

export interface SuiteOptions {
  /**
   * Tests that cannot run on this target, by exact title, with the reason; each is registered as
   * skipped with its reason in the title. For a shared database (the live Turso run), where calls
   * that act on every user (prune, listUsers, raw row counts) must not run.
   */
  skip?: Readonly<Record<string, string>>;
}

export function contractSuite(label: string, factory: Factory, suiteOptions: SuiteOptions = {}): void {
  const skip = new Map(Object.entries(suiteOptions.skip ?? {}));
  const t = (title: string, body: (t: ExecutionContext, open: (o?: StoreOptions) => Promise<ContractTarget>) => Promise<void>) => {
    const reason = skip.get(title);
    skip.delete(title);
    if (reason !== undefined) return test.skip(`${label} › ${title} (skipped: ${reason})`, () => {});
    return test(`${label} › ${title}`, async (tt) => {
      const opened: ContractTarget[] = [];
      const open = async (options: StoreOptions = {}) => {
        const target = await factory({ ...quiet, ...options });
        opened.push(target);
        return target;
      };
      try {
        await body(tt, open);
      } finally {
        for (const target of opened) {
          await target.store.close();
          await target.dispose?.();
        }
      }
    });
  };

  /** A populated store's full observable state: used to prove a refused call changed nothing. */
  async function snapshot(target: ContractTarget): Promise<unknown> {
    const { store } = target;
    return {
      raw: await target.rawCount?.(),
      u1s1: await store.fetchAllChats('u1', 's1'),
      u1s2: await store.fetchAllChats('u1', 's2'),
      sessions: await store.listSessions('u1'),
      other: await store.listSessions('u2'),
    };
  }

  async function seeded(open: (o?: StoreOptions) => Promise<ContractTarget>, options: StoreOptions = {}) {
    const target = await open(options);
    await target.store.saveChatMessages('u1', 's1', 'a1', dialogue(4, 'x'));
    await target.store.saveChatMessages('u1', 's1', 'a2', dialogue(2, 'y'));
    await target.store.saveChatMessages('u1', 's2', 'a1', dialogue(3, 'z'));
    await target.store.saveChatMessage('u2', 's1', 'a1', user('other user'));
    return target;
  }

  async function refused(
    tt: ExecutionContext,
    target: ContractTarget,
    call: () => Promise<unknown>,
    code: ErrorCode,
    what: string,
  ): Promise<void> {
    const before = await snapshot(target);
    const error = await tt.throwsAsync(call, undefined, what);
    tt.is((error as { code?: string } | undefined)?.code, code, `${what}: ${String(error)}`);
    tt.deepEqual(await snapshot(target), before, `${what} left the store unchanged`);
  }

  // ---------------------------------------------------------------- content

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

  // ---------------------------------------------------------------- Agent Squad rules

  t('saveChatMessage resolves to the window after the append, oldest first', async (tt, open) => {
    const { store } = await open();
    let window: ConversationMessage[] = [];
    for (const m of dialogue(7)) window = await store.saveChatMessage('u', 's', 'a', m, 4);
    tt.deepEqual(texts(window), ['3', '4', '5', '6']);
    tt.deepEqual(texts(await store.saveChatMessage('u', 's', 'a', bot('7'))), ['0', '1', '2', '3', '4', '5', '6', '7']);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['0', '1', '2', '3', '4', '5', '6', '7']);
  });

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

  t('maxHistorySize: odd rounds down to even, 0 and 1 give an empty window, absent gives all', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', dialogue(9));
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a', 3)), ['7', '8']);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a', 4)), ['5', '6', '7', '8']);
    tt.deepEqual(await store.fetchChat('u', 's', 'a', 0), []);
    tt.deepEqual(await store.fetchChat('u', 's', 'a', 1), []);
    tt.deepEqual(await store.saveChatMessage('u', 's', 'a', bot('9'), 1), []);
    tt.is((await store.fetchChat('u', 's', 'a')).length, 10);
    tt.is((await store.fetchChat('u', 's', 'a', 1000)).length, 10);
    tt.deepEqual(texts(await store.saveChatMessages('u', 's', 'a', dialogue(2, 'n'), 3)), ['n0', 'n1']);
    tt.is((await store.fetchChat('u', 's', 'a')).length, 12, 'a window is a view: nothing was deleted');
  });

  t('fetchAllChats: every agent of the session in write order, assistant text tagged [agentId]', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'tech', user('q1'));
    await store.saveChatMessage('u', 's', 'billing', user('q2'));
    await store.saveChatMessage('u', 's', 'tech', { role: 'assistant', content: [{ image: 'img' }, { text: 'a1' }, { text: 'more' }] });
    await store.saveChatMessage('u', 's', 'billing', { role: 'assistant', content: [{ toolUse: { name: 't' } }] });
    await store.saveChatMessage('u', 'other', 'tech', user('elsewhere'));
    tt.deepEqual(await store.fetchAllChats('u', 's'), [
      user('q1'),
      user('q2'),
      { role: 'assistant', content: [{ image: 'img' }, { text: '[tech] a1' }, { text: 'more' }] },
      { role: 'assistant', content: [{ text: '[billing] ' }, { toolUse: { name: 't' } }] },
    ]);
    tt.deepEqual(await store.fetchAllChats('u', 'none'), []);
    tt.deepEqual(await store.fetchChat('u', 's', 'tech', 2), [
      user('q1'),
      { role: 'assistant', content: [{ image: 'img' }, { text: 'a1' }, { text: 'more' }] },
    ], 'the tag is added on read, not stored');
  });

  // ---------------------------------------------------------------- order and time

  t('order is the order of writes under an equal clock and a clock going backwards', async (tt, open) => {
    const clock = new TestClock();
    const { store } = await open({ clock: clock.read });
    for (let i = 0; i < 6; i++) {
      await store.saveChatMessage('u', 's', i % 2 ? 'b' : 'a', i % 4 < 2 ? user(`m${i}`) : bot(`m${i}`));
      if (i >= 3) clock.advance(-1000); // backwards
    }
    for (let i = 0; i < 4; i++) await store.saveChatMessage('u', 's', 'c', i % 2 ? bot(`c${i}`) : user(`c${i}`)); // equal times
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'c')), ['c0', 'c1', 'c2', 'c3']);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['m0', 'm2', 'm4']);
    tt.deepEqual(
      texts(await store.fetchAllChats('u', 's')).map((text) => text!.replace(/^\[\w\] /, '')),
      ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'c0', 'c1', 'c2', 'c3'],
    );
    const page = await store.fetchChatPage('u', 's', 'a', { order: 'oldest' });
    tt.deepEqual(page.items.map((m) => m.timestamp), [clock.now + 3000, clock.now + 3000, clock.now + 2000]);
  });

  t('timestamps come from the injected clock or the message, positions count from 1', async (tt, open) => {
    const clock = new TestClock(5_000);
    const { store } = await open({ clock: clock.read });
    await store.saveChatMessage('u', 's', 'a', user('clocked'));
    await store.saveChatMessage('u', 's', 'a', { ...bot('given'), timestamp: 42 });
    await store.saveChatMessage('u', 's', 'a', { ...user('date'), timestamp: new Date(77) });
    const { items } = await store.fetchChatPage('u', 's', 'a', { order: 'oldest' });
    tt.deepEqual(items.map((m) => [m.seq, m.timestamp, m.content[0]!.text]), [[1, 5_000, 'clocked'], [2, 42, 'given'], [3, 77, 'date']]);
  });

  t('concurrent appends to one conversation all land, each at its own position', async (tt, open) => {
    const { store } = await open({ consecutiveRoles: 'keep' });
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.saveChatMessage('u', 's', 'a', user(`m${i}`))));
    const { items } = await store.fetchChatPage('u', 's', 'a', { order: 'oldest', limit: 100 });
    tt.deepEqual(items.map((m) => m.seq), Array.from({ length: 40 }, (_, i) => i + 1));
    tt.deepEqual(new Set(items.map((m) => m.content[0]!.text)).size, 40);
  });

  // ---------------------------------------------------------------- identity

  t('ids with separators never collide: ("a#b","c") and ("a","b#c") are different', async (tt, open) => {
    const { store } = await open();
    const triples: Array<[string, string, string]> = [
      ['a#b', 'c', 'd'],
      ['a', 'b#c', 'd'],
      ['a', 'b', 'c#d'],
      ['a#b#c', 'd', 'x'],
      ['a:b', 'c', 'd'],
      ['a', 'b:c', 'd'],
      ['a/b', 'c', 'd'],
      ['a', 'b/c', 'd'],
      ['a%', 'c', 'd'],
      ['a_', 'c', 'd'],
      ['a', 'c', 'd'],
    ];
    for (const [i, [u, s, a]] of triples.entries()) await store.saveChatMessage(u, s, a, user(`#${i}`));
    for (const [i, [u, s, a]] of triples.entries()) {
      tt.deepEqual(texts(await store.fetchChat(u, s, a)), [`#${i}`], JSON.stringify([u, s, a]));
    }
    tt.deepEqual((await store.listSessions('a')).items.map((s) => s.sessionId).sort(), ['b', 'b#c', 'b/c', 'b:c', 'c'].sort());
    // LIKE wildcards in ids are plain characters.
    tt.deepEqual(texts(await store.fetchAllChats('a%', 'c')), ['#8']);
    tt.deepEqual(await store.fetchAllChats('%', '%'), []);
    tt.deepEqual(await store.fetchAllChats('a_', '_'), []);
  });

  t('ids may hold quotes, spaces, SQL, unicode, and be 256 units long', async (tt, open) => {
    const { store } = await open();
    const ids = [
      "O'Brien",
      'say "hi"',
      "'; DROP TABLE messages; --",
      '  spaced  ',
      'ünïcødé-用户-🙂',
      'x'.repeat(256),
      '🙂'.repeat(128),
      '\\back\\slash',
      'tab\tnew\nline',
    ];
    for (const id of ids) await store.saveChatMessage(id, id, id, user(id));
    for (const id of ids) {
      tt.deepEqual(texts(await store.fetchChat(id, id, id)), [id]);
      tt.deepEqual((await store.listSessions(id)).items.map((s) => s.sessionId), [id]);
    }
    tt.deepEqual(texts(await store.fetchChat(' spaced ', '  spaced  ', '  spaced  ')), [], 'no trimming');
  });

  t('users and sessions are isolated: same session id under two users', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('alice', 's1', 'a', dialogue(2, 'alice'));
    await store.saveChatMessages('bob', 's1', 'a', dialogue(4, 'bob'));
    await store.saveChatMessage('alice', 's2', 'a', user('alice-s2'));
    tt.deepEqual(texts(await store.fetchChat('alice', 's1', 'a')), ['alice0', 'alice1']);
    tt.is((await store.fetchAllChats('bob', 's1')).length, 4);
    tt.deepEqual((await store.listSessions('bob')).items.map((s) => [s.sessionId, s.messageCount]), [['s1', 4]]);
    await store.deleteUser('alice');
    tt.is((await store.fetchChat('bob', 's1', 'a')).length, 4);
    tt.deepEqual(await store.fetchChat('alice', 's1', 'a'), []);
    await store.deleteSession('bob', 's2');
    await store.deleteConversation('alice', 's1', 'a');
    tt.is((await store.fetchChat('bob', 's1', 'a')).length, 4);
  });

  // ---------------------------------------------------------------- paging

  t('fetchChatPage walks a conversation newest first across page boundaries', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', dialogue(25));
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.fetchChatPage('u', 's', 'a', { limit: 10, cursor });
      seen.push(...page.items.map((m) => m.seq));
      cursor = page.nextCursor;
      pages++;
      if (pages === 1) await store.saveChatMessage('u', 's', 'a', bot('late')); // newer than the walk
    } while (cursor);
    tt.is(pages, 3);
    tt.deepEqual(seen, Array.from({ length: 25 }, (_, i) => 25 - i));
  });

  t('fetchChatPage walks oldest first; an exact multiple ends without an empty page', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', dialogue(20));
    const first = await store.fetchChatPage('u', 's', 'a', { limit: 10, order: 'oldest' });
    tt.deepEqual(texts(first.items), dialogue(10).map((m) => m.content[0]!.text));
    tt.truthy(first.nextCursor);
    const second = await store.fetchChatPage('u', 's', 'a', { limit: 10, order: 'oldest', cursor: first.nextCursor });
    tt.deepEqual(second.items.map((m) => m.seq), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    tt.is(second.nextCursor, undefined);
    tt.deepEqual(await store.fetchChatPage('u', 's', 'none'), { items: [] });
    tt.is((await store.fetchChatPage('u', 's', 'a')).items.length, 20, 'default page size covers 20');
  });

  t('cursors are refused for another conversation, another order, or when forged', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const page = await store.fetchChatPage('u1', 's1', 'a1', { limit: 1 });
    tt.truthy(page.nextCursor);
    const cursor = page.nextCursor!;
    for (const [what, call] of [
      ['other agent', () => store.fetchChatPage('u1', 's1', 'a2', { cursor })],
      ['other user', () => store.fetchChatPage('u2', 's1', 'a1', { cursor })],
      ['other order', () => store.fetchChatPage('u1', 's1', 'a1', { cursor, order: 'oldest' })],
      ['garbage', () => store.fetchChatPage('u1', 's1', 'a1', { cursor: 'not-a-cursor' })],
      ['empty', () => store.fetchChatPage('u1', 's1', 'a1', { cursor: '' })],
      ['number', () => store.fetchChatPage('u1', 's1', 'a1', { cursor: 7 as never })],
      ['session cursor', () => store.listSessions('u1', { cursor })],
    ] as const) {
      await refused(tt, target, call, 'VALIDATION', what);
    }
  });

  t('listSessions pages a user’s sessions, most recent activity first, with agents and counts', async (tt, open) => {
    const clock = new TestClock(1_000);
    const { store } = await open({ clock: clock.read });
    for (let i = 0; i < 5; i++) {
      clock.advance(10);
      await store.saveChatMessages('u', `s${i}`, 'a', dialogue(i + 1));
    }
    clock.advance(10);
    await store.saveChatMessage('u', 's1', 'b', user('s1 again')); // s1 becomes the most recent
    await store.saveChatMessage('v', 'sv', 'a', user('other user'));
    const first = await store.listSessions('u', { limit: 2 });
    tt.deepEqual(first.items.map((s) => s.sessionId), ['s1', 's4']);
    tt.deepEqual(first.items[0], {
      sessionId: 's1',
      createdAt: 1_020,
      lastActivityAt: 1_060,
      messageCount: 3,
      agents: [
        { agentId: 'a', messageCount: 2, lastMessageAt: 1_020 },
        { agentId: 'b', messageCount: 1, lastMessageAt: 1_060 },
      ],
    });
    const second = await store.listSessions('u', { limit: 2, cursor: first.nextCursor });
    tt.deepEqual(second.items.map((s) => s.sessionId), ['s3', 's2']);
    const third = await store.listSessions('u', { limit: 2, cursor: second.nextCursor });
    tt.deepEqual(third.items.map((s) => [s.sessionId, s.messageCount]), [['s0', 1]]);
    tt.is(third.nextCursor, undefined);
    tt.deepEqual(await store.listSessions('nobody'), { items: [] });
    const error = await tt.throwsAsync(() => store.listSessions('v', { cursor: first.nextCursor }), { instanceOf: ValidationError });
    tt.is(error!.code, 'VALIDATION');
  });

  t('listSessions breaks ties in last activity by session id, without skipping or repeating', async (tt, open) => {
    const clock = new TestClock(1_000);
    const { store } = await open({ clock: clock.read });
    const ids = ['b', 'a', 'c#1', 'c', 'é', 'z', 'A'];
    for (const id of ids) await store.saveChatMessage('u', id, 'x', user(id));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listSessions('u', { limit: 3, cursor });
      seen.push(...page.items.map((s) => s.sessionId));
      cursor = page.nextCursor;
    } while (cursor);
    tt.deepEqual(seen, [...ids].sort().reverse());
  });

  t('listUsers pages every user with data in UTF-8 byte order; emptied users disappear', async (tt, open) => {
    const { store } = await open();
    const ids = ['bob', 'alice', 'Zed', 'émile', '🙂 smile', '\uFFFD replacement', 'a#b', 'a'];
    for (const id of ids) await store.saveChatMessage(id, 's', 'x', user(id));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listUsers({ limit: 3, cursor });
      tt.true(page.items.length <= 3);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const byBytes = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    tt.deepEqual(seen, byBytes);
    tt.not(byBytes.join(), [...ids].sort().join(), 'the ids sort differently by UTF-16 units, so the order is tested');
    await store.deleteConversation('bob', 's', 'x');
    await store.deleteUser('alice');
    tt.deepEqual((await store.listUsers()).items, byBytes.filter((id) => id !== 'bob' && id !== 'alice'));
    await tt.throwsAsync(() => store.listUsers({ cursor: 'junk' }), { instanceOf: ValidationError });
    await tt.throwsAsync(() => store.listUsers({ limit: 0 }), { instanceOf: ValidationError });
  });

  // ---------------------------------------------------------------- deletion

  t('deleteConversation removes one agent’s messages; the session goes with its last conversation', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', dialogue(3));
    await store.saveChatMessages('u', 's', 'b', dialogue(2));
    tt.deepEqual(await store.deleteConversation('u', 's', 'a'), { messages: 3, sessions: 0 });
    tt.deepEqual(await store.fetchChat('u', 's', 'a'), []);
    tt.is((await store.fetchChat('u', 's', 'b')).length, 2);
    tt.deepEqual((await store.listSessions('u')).items.map((s) => s.agents.map((a) => a.agentId)), [['b']]);
    tt.deepEqual(await store.deleteConversation('u', 's', 'b'), { messages: 2, sessions: 1 });
    tt.deepEqual(await store.listSessions('u'), { items: [] });
    tt.deepEqual(await store.deleteConversation('u', 's', 'b'), { messages: 0, sessions: 0 });
    // The conversation starts afresh.
    await store.saveChatMessage('u', 's', 'a', bot('new'));
    tt.deepEqual((await store.fetchChatPage('u', 's', 'a')).items.map((m) => [m.seq, m.role]), [[1, 'assistant']]);
  });

  t('deleteSession and deleteUser report what they removed; erasure leaves nothing', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    tt.deepEqual(await store.deleteSession('u1', 's2'), { messages: 3, sessions: 1 });
    tt.deepEqual(await store.fetchAllChats('u1', 's2'), []);
    tt.is((await store.fetchAllChats('u1', 's1')).length, 6);
    tt.deepEqual(await store.deleteSession('u1', 's2'), { messages: 0, sessions: 0 });
    await store.saveChatMessage('u1', 's3', 'a1', user('more'));
    tt.deepEqual(await store.deleteUser('u1'), { messages: 7, sessions: 2 });
    tt.deepEqual(await store.listSessions('u1'), { items: [] });
    tt.deepEqual(await store.fetchAllChats('u1', 's1'), []);
    tt.deepEqual(await store.deleteUser('u1'), { messages: 0, sessions: 0 });
    tt.is((await store.fetchChat('u2', 's1', 'a1')).length, 1, 'other users keep their data');
    if (target.rawCount) {
      await store.deleteUser('u2');
      // Only agent rows, shared by all users and holding no user data, may remain.
      tt.true((await target.rawCount()) <= 2, `rows left after erasing everyone: ${await target.rawCount()}`);
    }
  });

  // ---------------------------------------------------------------- retention

  t('retention.maxMessages keeps the newest N per conversation on write', async (tt, open) => {
    const { store } = await open({ retention: { maxMessages: 4 } });
    for (const m of dialogue(9)) await store.saveChatMessage('u', 's', 'a', m);
    await store.saveChatMessages('u', 's', 'b', dialogue(7));
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['5', '6', '7', '8']);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'b')), ['3', '4', '5', '6']);
    tt.deepEqual((await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items.map((m) => m.seq), [6, 7, 8, 9]);
    tt.is((await store.listSessions('u')).items[0]!.messageCount, 8);
    tt.is(await store.prune(), 0);
  });

  t('retention.ttlMs hides expired messages at once and prune() removes them', async (tt, open) => {
    const clock = new TestClock(10_000);
    const { store } = await open({ clock: clock.read, retention: { ttlMs: 1_000 } });
    await store.saveChatMessages('u', 's', 'a', dialogue(2, 'old'));
    await store.saveChatMessage('u', 's', 'b', user('old-b'));
    clock.advance(600);
    await store.saveChatMessages('u', 's', 'a', dialogue(2, 'new'));
    clock.advance(600); // the first three are now 1,200 ms old
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['new0', 'new1']);
    tt.deepEqual(texts(await store.fetchAllChats('u', 's')), ['new0', '[a] new1']);
    tt.deepEqual((await store.listSessions('u')).items[0]!.agents.map((a) => [a.agentId, a.messageCount]), [['a', 2]]);
    tt.is((await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items.length, 2);
    tt.is(await store.prune(), 3);
    tt.is(await store.prune(), 0);
    clock.advance(-5_000); // with the clock back, pruned messages stay gone
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['new0', 'new1']);
  });

  t('retention options are validated', async (tt, open) => {
    for (const retention of [{ maxMessages: 0 }, { maxMessages: -1 }, { maxMessages: 1.5 }, { ttlMs: 0 }, { ttlMs: Number.NaN }, 'x']) {
      await tt.throwsAsync(() => open({ retention: retention as never }), { instanceOf: ValidationError }, JSON.stringify(retention));
    }
    await tt.throwsAsync(() => open({ consecutiveRoles: 'maybe' as never }), { instanceOf: ValidationError });
    await tt.throwsAsync(() => open({ clock: 5 as never }), { instanceOf: ValidationError });
  });

  // ---------------------------------------------------------------- lifecycle

  t('after close() every call fails with ClosedError; close is idempotent', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'a', user('x'));
    const inFlight = store.saveChatMessage('u', 's', 'a', bot('y'));
    await store.close();
    tt.is((await inFlight).length, 2, 'a call in flight at close() completes');
    await store.close();
    tt.true(store.closed);
    const calls: Array<() => Promise<unknown>> = [
      () => store.saveChatMessage('u', 's', 'a', user('x')),
      () => store.saveChatMessages('u', 's', 'a', [user('x')]),
      () => store.fetchChat('u', 's', 'a'),
      () => store.fetchAllChats('u', 's'),
      () => store.fetchChatPage('u', 's', 'a'),
      () => store.listSessions('u'),
      () => store.listUsers(),
      () => store.deleteConversation('u', 's', 'a'),
      () => store.deleteSession('u', 's'),
      () => store.deleteUser('u'),
      () => store.prune(),
    ];
    for (const call of calls) {
      const error = await tt.throwsAsync(call, { instanceOf: ClosedError });
      tt.is(error!.code, 'CLOSED');
    }
  });

  // ---------------------------------------------------------------- bad input

  t('bad ids are refused with a validation error and change nothing', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const bad: unknown[] = ['', 'x'.repeat(257), 'nul\0byte', 'lone\uD800', '\uDC00lone', 42, null, undefined, {}, ['a']];
    for (const id of bad) {
      const label = JSON.stringify(id) ?? String(id);
      const as = id as string;
      await refused(tt, target, () => store.saveChatMessage(as, 's1', 'a1', user('x')), 'VALIDATION', `userId ${label}`);
      await refused(tt, target, () => store.saveChatMessages('u1', as, 'a1', [user('x')]), 'VALIDATION', `sessionId ${label}`);
      await refused(tt, target, () => store.saveChatMessage('u1', 's1', as, user('x')), 'VALIDATION', `agentId ${label}`);
      await refused(tt, target, () => store.fetchChat(as, 's1', 'a1'), 'VALIDATION', `fetchChat ${label}`);
      await refused(tt, target, () => store.fetchAllChats('u1', as), 'VALIDATION', `fetchAllChats ${label}`);
      await refused(tt, target, () => store.listSessions(as), 'VALIDATION', `listSessions ${label}`);
      await refused(tt, target, () => store.deleteConversation('u1', 's1', as), 'VALIDATION', `deleteConversation ${label}`);
      await refused(tt, target, () => store.deleteSession('u1', as), 'VALIDATION', `deleteSession ${label}`);
      await refused(tt, target, () => store.deleteUser(as), 'VALIDATION', `deleteUser ${label}`);
    }
    const e = await tt.throwsAsync(() => store.fetchChat('u1', '', 'a1'), { instanceOf: ValidationError });
    tt.is(e!.field, 'sessionId');
  });

  t('bad messages are refused with a validation error and change nothing, even inside a batch', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const cyclic: Record<string, unknown> = { text: 'x' };
    cyclic.self = cyclic;
    class Block {
      text = 'x';
    }
    const deep: unknown[] = [];
    let cursor = deep;
    for (let i = 0; i < 200; i++) cursor.push((cursor = []));
    const bad: Array<[string, unknown]> = [
      ['role missing', { content: 'x' }],
      ['role system', { role: 'system', content: 'x' }],
      ['role USER', { role: 'USER', content: 'x' }],
      ['content missing', { role: 'user' }],
      ['content number', { role: 'user', content: 5 }],
      ['content object', { role: 'user', content: { text: 'x' } }],
      ['block string', { role: 'user', content: ['x'] }],
      ['block null', { role: 'user', content: [null] }],
      ['block array', { role: 'user', content: [[{ text: 'x' }]] }],
      ['block class', { role: 'user', content: [new Block()] }],
      ['cycle', { role: 'user', content: [cyclic] }],
      ['BigInt', { role: 'user', content: [{ n: 10n }] }],
      ['function', { role: 'user', content: [{ f: () => 1 }] }],
      ['symbol', { role: 'user', content: [{ s: Symbol('s') }] }],
      ['Date', { role: 'user', content: [{ at: new Date(0) }] }],
      ['Map', { role: 'user', content: [{ m: new Map() }] }],
      ['NaN', { role: 'user', content: [{ n: Number.NaN }] }],
      ['Infinity', { role: 'user', content: [{ n: Number.POSITIVE_INFINITY }] }],
      ['-Infinity', { role: 'user', content: [{ n: Number.NEGATIVE_INFINITY }] }],
      ['undefined in array', { role: 'user', content: [{ list: [1, undefined, 3] }] }],
      ['hole in array', { role: 'user', content: [{ list: [1, , 3] }] }], // eslint-disable-line no-sparse-arrays
      ['too deep', { role: 'user', content: [{ deep }] }],
      ['bad timestamp', { role: 'user', content: 'x', timestamp: -1 }],
      ['NaN timestamp', { role: 'user', content: 'x', timestamp: Number.NaN }],
      ['invalid Date', { role: 'user', content: 'x', timestamp: new Date(Number.NaN) }],
      ['string timestamp', { role: 'user', content: 'x', timestamp: '2024' }],
      ['not an object', 'hello'],
      ['null message', null],
    ];
    for (const [what, message] of bad) {
      await refused(tt, target, () => store.saveChatMessage('u1', 's1', 'a1', message as never), 'VALIDATION', what);
      await refused(
        tt,
        target,
        () => store.saveChatMessages('u1', 's9', 'a1', [user('ok'), bot('ok'), message as never]),
        'VALIDATION',
        `${what} in a batch`,
      );
    }
    await refused(tt, target, () => store.saveChatMessages('u1', 's1', 'a1', 'nope' as never), 'VALIDATION', 'messages not an array');
    const e = await tt.throwsAsync(() => store.saveChatMessages('u1', 's1', 'a1', [user('ok'), { role: 'user', content: [{ x: 1n }] } as never]), {
      instanceOf: ValidationError,
    });
    tt.is(e!.field, 'messages[1].content[0].x');
  });

  t('bad windows, page sizes, orders and options are refused and change nothing', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    for (const size of [-1, -2, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '4', null]) {
      const s = size as number;
      await refused(tt, target, () => store.fetchChat('u1', 's1', 'a1', s), 'VALIDATION', `fetchChat ${String(size)}`);
      await refused(tt, target, () => store.saveChatMessage('u1', 's1', 'a1', user('x'), s), 'VALIDATION', `save ${String(size)}`);
    }
    for (const limit of [0, -1, 1.5, 1001, Number.NaN, '10']) {
      const l = limit as number;
      await refused(tt, target, () => store.fetchChatPage('u1', 's1', 'a1', { limit: l }), 'VALIDATION', `page limit ${String(limit)}`);
      await refused(tt, target, () => store.listSessions('u1', { limit: l }), 'VALIDATION', `list limit ${String(limit)}`);
    }
    await refused(tt, target, () => store.fetchChatPage('u1', 's1', 'a1', { order: 'sideways' as never }), 'VALIDATION', 'order');
    await refused(tt, target, () => store.fetchChatPage('u1', 's1', 'a1', 'x' as never), 'VALIDATION', 'options string');
    tt.is((await store.fetchChatPage('u1', 's1', 'a1', { limit: 1000 })).items.length, 4);
  });

  // A misspelt title would otherwise run the test it meant to skip, or skip nothing silently.
  if (skip.size > 0) throw new Error(`contractSuite(${label}): no test titled ${[...skip.keys()].join(', ')}`);
}
