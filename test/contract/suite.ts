/**
 * The behavioural contract (../shared/CONTRACT.md, docs/contract.md), written once and run against
 * every backend. A backend test file calls `contractSuite` with a factory that opens a fresh, empty
 * store (see test/backends/registry.ts). The tests live in one file per domain, beside this one.
 */
import test from 'ava';
import type { StoreOptions } from '../../src/index.js';
import type { ContractTarget, Declare, Open } from './support.js';
import { contentTests } from './content.js';
import { rolesTests } from './roles.js';
import { windowsTests } from './windows.js';
import { orderTests } from './order.js';
import { identityTests } from './identity.js';
import { pagesTests } from './pages.js';
import { sessionsTests } from './sessions.js';
import { deletionTests } from './deletion.js';
import { retentionTests } from './retention.js';
import { errorsTests } from './errors.js';
import { idsTests } from './ids.js';
import { metadataTests } from './metadata.js';
import { editsTests } from './edits.js';
import { sessionPagesTests } from './session-pages.js';
import { titlesTests } from './titles.js';
import { forksTests } from './forks.js';
import { importTests } from './import.js';

export type { ContractTarget } from './support.js';
export type Factory = (options: StoreOptions) => Promise<ContractTarget>;

export interface SuiteOptions {
  /**
   * Tests that cannot run on this target, by exact title, with the reason; each is registered as
   * skipped with its reason in the title. For a shared database (the live Turso run), where calls
   * that act on every user (prune, listUsers, raw row counts) must not run.
   */
  skip?: Readonly<Record<string, string>>;
}

/** Every domain, in the order its tests are declared. */
const domains: Array<(declare: Declare) => void> = [
  contentTests,
  rolesTests,
  windowsTests,
  orderTests,
  identityTests,
  pagesTests,
  sessionsTests,
  deletionTests,
  retentionTests,
  errorsTests,
  idsTests,
  metadataTests,
  editsTests,
  sessionPagesTests,
  titlesTests,
  forksTests,
  importTests,
];

const quiet = { logger: null } satisfies StoreOptions;

export function contractSuite(label: string, factory: Factory, suiteOptions: SuiteOptions = {}): void {
  const skip = new Map(Object.entries(suiteOptions.skip ?? {}));
  const titles = new Set<string>();
  const declare: Declare = (title, body) => {
    if (titles.has(title)) throw new Error(`contractSuite: two tests titled ${title}`);
    titles.add(title);
    const reason = skip.get(title);
    skip.delete(title);
    if (reason !== undefined) return test.skip(`${label} › ${title} (skipped: ${reason})`, () => {});
    test(`${label} › ${title}`, async (t) => {
      const opened: ContractTarget[] = [];
      const open: Open = async (options = {}) => {
        const target = await factory({ ...quiet, ...options });
        opened.push(target);
        return target;
      };
      try {
        await body(t, open);
      } finally {
        for (const target of opened) {
          await target.store.close();
          await target.dispose?.();
        }
      }
    });
  };
  for (const domain of domains) domain(declare);
  // A misspelt title would otherwise run the test it meant to skip, or skip nothing silently.
  if (skip.size > 0) throw new Error(`contractSuite(${label}): no test titled ${[...skip.keys()].join(', ')}`);
}
