import type { Declare } from './support.js';
export function editsTests(_t: Declare): void {}
