import type { Declare } from './support.js';
export function titlesTests(_t: Declare): void {}
