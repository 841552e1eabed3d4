import type { Declare } from './support.js';
export function metadataTests(_t: Declare): void {}
