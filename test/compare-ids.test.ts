import test from 'ava';
import fc from 'fast-check';
import { compareIds } from '../src/core/validate.js';

// Listings on every backend order ids as SQLite's BINARY collation and DynamoDB do: by UTF-8 bytes.
test('compareIds orders well-formed strings exactly as their UTF-8 bytes', (t) => {
  const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
  t.log(`seed ${seed} (replay with FC_SEED=${seed})`);
  const byBytes = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const tricky = fc.constantFrom('a', 'é', '\u07FF', '\u0800', '\uD7FF', '\uE000', '\uFFFD', '\uFFFF', '🙂', '𝄞', '\u{10FFFF}');
  const id = fc.oneof(fc.string({ unit: 'grapheme' }), fc.array(tricky, { maxLength: 4 }).map((parts) => parts.join('')));
  fc.assert(
    fc.property(id, id, (a, b) => Math.sign(compareIds(a, b)) === byBytes(a, b)),
    { seed, numRuns: 5000 },
  );
  t.is(Math.sign(compareIds('\uFFFD', '🙂')), -1, 'a BMP character sorts before an astral one, unlike UTF-16 order');
  t.true('\uFFFD' > '🙂', 'JS string order disagrees here, so the test can tell them apart');
});
