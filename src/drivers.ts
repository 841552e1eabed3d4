import { MissingDriverError } from './errors.js';

/**
 * The driver packages each backend needs. They are optional peer dependencies: an application
 * installs the one it uses, and only that backend's modules ever import it.
 */
export const DRIVER_PACKAGES = {
  sqlite: ['better-sqlite3'],
  libsql: ['@libsql/client'],
  dynamodb: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
} as const satisfies Record<string, readonly string[]>;

export type DriverBackend = keyof typeof DRIVER_PACKAGES;

/**
 * Imports a backend's module (which imports its driver); a driver that is not installed becomes a
 * MissingDriverError naming the `npm install` command, any other failure passes through.
 */
export async function importBackend<T>(backend: DriverBackend, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const packages = DRIVER_PACKAGES[backend];
    if (packages.some((name) => isMissingPackage(error, name))) throw new MissingDriverError(backend, packages, error);
    throw error;
  }
}

/** Node's "Cannot find package 'NAME' imported from …" (ESM) or "Cannot find module 'NAME'" (CommonJS). */
function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`'${name}/`));
}
