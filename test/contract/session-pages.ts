import type { Declare } from './support.js';
export function sessionPagesTests(_t: Declare): void {}
