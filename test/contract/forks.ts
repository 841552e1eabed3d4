import type { Declare } from './support.js';
export function forksTests(_t: Declare): void {}
