import type { Declare } from './support.js';
export function importTests(_t: Declare): void {}
