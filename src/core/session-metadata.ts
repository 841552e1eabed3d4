import type { JsonValue, Metadata } from '../types.js';
import { checkSessionMetadataSize } from './validate.js';

/**
 * updateSession's merge, for backends that merge on the client (memory, SQL): top-level keys set or,
 * when null, removed; a nested object is replaced whole. Keys are defined, not assigned, so a key
 * named `__proto__` stays a key. Undefined when no key is left; refused when the result is too large.
 */
export function mergeSessionMetadata(previous: Metadata | undefined, patch: { [key: string]: JsonValue }): Metadata | undefined {
  const merged: Metadata = {};
  for (const [k, v] of Object.entries(previous ?? {})) define(merged, k, v);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete merged[k];
    else define(merged, k, structuredClone(v));
  }
  if (Object.keys(merged).length === 0) return undefined;
  checkSessionMetadataSize('update.metadata', JSON.stringify(merged));
  return merged;
}

function define(target: Metadata, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
