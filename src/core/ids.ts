/**
 * Message ids made on the client, before a write is sent, so a write can be retried with the same ids
 * and be stored once. UUIDv7 (RFC 9562): 48 bits of epoch milliseconds, then a counter seeded at
 * random each millisecond (method 3, "monotonic random"), so ids made by one generator sort by UTF-8
 * bytes in the order they were made, even within one millisecond or when the clock goes back.
 * Web Crypto only (no node: import), so the same code runs on edge runtimes.
 */
export type IdGenerator = () => string;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidv7Generator(clock: () => number = Date.now): IdGenerator {
  let lastMs = -1;
  // 12 bits of rand_a and 62 of rand_b hold a 74-bit counter; its top bit starts at 0 so that
  // increments within one millisecond do not overflow in practice.
  const bytes = new Uint8Array(16);
  return () => {
    const now = Math.max(0, Math.floor(clock()));
    if (now > lastMs) {
      lastMs = now;
      crypto.getRandomValues(bytes);
      bytes[6]! &= 0x07; // leave headroom in the counter's top bits
    } else {
      increment(bytes);
      if ((bytes[6]! & 0xf0) !== 0) {
        // The counter ran out within one millisecond: borrow the next one.
        lastMs += 1;
        crypto.getRandomValues(bytes);
        bytes[6]! &= 0x07;
      }
    }
    let ms = lastMs;
    for (let i = 5; i >= 0; i--) {
      bytes[i] = ms % 256;
      ms = Math.floor(ms / 256);
    }
    const out = new Uint8Array(bytes);
    out[6] = 0x70 | (out[6]! & 0x0f);
    out[8] = 0x80 | (out[8]! & 0x3f);
    return format(out);
  };
}

/** Adds one to the counter held in bytes 6..15 (the version and variant bits are set on output). */
function increment(bytes: Uint8Array): void {
  for (let i = 15; i >= 6; i--) {
    if (i === 8) {
      // Byte 8 keeps 6 counter bits; its top two become the variant.
      const v = (bytes[8]! & 0x3f) + 1;
      bytes[8] = v & 0x3f;
      if (v <= 0x3f) return;
      continue;
    }
    bytes[i] = (bytes[i]! + 1) & 0xff;
    if (bytes[i] !== 0) return;
  }
}

function format(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[i]!];
  }
  return s;
}
