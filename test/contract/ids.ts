import type { Declare } from './support.js';
export function idsTests(_t: Declare): void {}
