/** Errors: closed stores, bad ids, messages, windows and options, each refused before anything is written. */
import * as api from '../../src/index.js';
import { ClosedError, ConvostoreError, ValidationError } from '../../src/index.js';
import { user, bot, seeded, refused, type Declare } from './support.js';

export function errorsTests(t: Declare): void {
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
      ['role developer', { role: 'developer', content: 'x' }],
      ['role System', { role: 'System', content: 'x' }],
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

  // ---------------------------------------------------------------- v2

  t('after close() every v2 call fails with ClosedError', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'a', { id: 'm', role: 'user', content: 'x' });
    await store.close();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['getMessage', () => store.getMessage('u', 's', 'm')],
      ['updateMessage', () => store.updateMessage('u', 's', 'm', { content: 'y' })],
      ['upsertMessages', () => store.upsertMessages('u', 's', 'a', [])],
      ['deleteMessages', () => store.deleteMessages('u', 's', ['m'])],
      ['truncateAfter', () => store.truncateAfter('u', 's', 'm')],
      ['fetchSessionPage', () => store.fetchSessionPage('u', 's')],
      ['getSession', () => store.getSession('u', 's')],
      ['updateSession', () => store.updateSession('u', 's', { title: 't' })],
      ['forkSession', () => store.forkSession('u', 's', 's2')],
      ['importSession', () => store.importSession('u', 's3', { messages: [] })],
    ];
    for (const [name, call] of calls) {
      const error = await tt.throwsAsync(call, { instanceOf: ClosedError }, name);
      tt.is(error!.code, 'CLOSED', name);
    }
  });

  t('bad ids in v2 calls are refused with a validation error and change nothing', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    for (const id of ['', 'x'.repeat(257), 'nul\0', 'lone\uD800', 7, null, undefined] as unknown[]) {
      const as = id as string;
      const label = JSON.stringify(id) ?? String(id);
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['getMessage user', () => store.getMessage(as, 's1', 'x0')],
        ['getMessage message', () => store.getMessage('u1', 's1', as)],
        ['updateMessage session', () => store.updateMessage('u1', as, 'x0', { content: 'y' })],
        ['updateMessage message', () => store.updateMessage('u1', 's1', as, { content: 'y' })],
        ['upsertMessages agent', () => store.upsertMessages('u1', 's1', as, [user('x')])],
        ['deleteMessages user', () => store.deleteMessages(as, 's1', ['x0'])],
        ['deleteMessages message', () => store.deleteMessages('u1', 's1', [as])],
        ['truncateAfter message', () => store.truncateAfter('u1', 's1', as)],
        ['fetchSessionPage session', () => store.fetchSessionPage('u1', as)],
        ['getSession session', () => store.getSession('u1', as)],
        ['updateSession user', () => store.updateSession(as, 's1', { title: 't' })],
        ['forkSession source', () => store.forkSession('u1', as, 'f')],
        ['forkSession target', () => store.forkSession('u1', 's1', as)],
        ['importSession session', () => store.importSession('u1', as, { messages: [] })],
      ];
      for (const [what, call] of calls) await refused(tt, target, call, 'VALIDATION', `${what} ${label}`);
    }
  });

  t('ConflictError and NotFoundError are exported members of the error family', async (tt, open) => {
    const exported = api as unknown as Record<string, unknown>;
    for (const name of ['ConflictError', 'NotFoundError']) tt.is(typeof exported[name], 'function', `${name} is exported from the package root`);
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'a', { id: 'm', role: 'user', content: 'x' });
    const conflict = await tt.throwsAsync(() => store.saveChatMessage('u', 's', 'a', { id: 'm', role: 'user', content: 'changed' }));
    const notFound = await tt.throwsAsync(() => store.updateMessage('u', 's', 'nope', { content: 'x' }));
    for (const [error, name, code] of [[conflict, 'ConflictError', 'CONFLICT'], [notFound, 'NotFoundError', 'NOT_FOUND']] as const) {
      tt.true(error instanceof ConvostoreError, name);
      tt.is(error!.name, name);
      tt.is((error as ConvostoreError).code, code);
      const ctor = exported[name];
      if (typeof ctor === 'function') tt.true(error instanceof (ctor as new () => Error), `${name}: instanceof the exported class`);
    }
  });
}
