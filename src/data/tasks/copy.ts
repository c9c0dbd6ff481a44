// Copy: a short random sequence, a long stretch of filler, then the sequence again. Each episode:
//   start  e(1, s_1) .. e(k, s_k)  . x delay  go  r_1 .. r_k
// where e(j, s) is one token: "symbol s in place j", and r_j asks for place j: the target at r_j
// is s_j (its own output token), and nothing else is scored. Chance is 1 / symbols.
//
// Why each symbol carries its place: Expire-Span's position embedding covers only the last mem-sz
// steps (as in the reference), so a memory older than that is found by its content, never by its
// distance. Tagging the symbols makes the order part of the content; a model still has to keep
// exactly the k tagged tokens across the filler to answer.
import { option, StreamWriter, type Task } from './task.js';

export const copyTask: Task = {
  name: 'copy',
  summary: 'reproduce a short random sequence after a long stretch of filler',
  metric: 'accuracy',
  options: [
    option('length', 8, 1, 60, 'symbols to remember per episode'),
    option('symbols', 16, 2, 60, 'alphabet size (chance accuracy is 1 / symbols)'),
    option('delay', 200, 0, 1_000_000, 'filler steps between the sequence and the "go" marker'),
  ],
  check(o) {
    if (o.length * (o.symbols + 1) + o.symbols + 3 > 256) return `length x (symbols + 1) + symbols must stay under 254 (one token per symbol and place), got ${o.length} and ${o.symbols}`;
  },
  tokens: (o) => [
    '.', 'start', 'go',
    ...Array.from({ length: o.symbols }, (_, s) => `s${s}`),
    ...Array.from({ length: o.length * o.symbols }, (_, i) => `e${Math.floor(i / o.symbols) + 1}:s${i % o.symbols}`),
    ...Array.from({ length: o.length }, (_, j) => `r${j + 1}`),
  ],
  generate(o, random, length) {
    const [filler, start, go, symbol0] = [0, 1, 2, 3];
    const tagged0 = symbol0 + o.symbols, ask0 = tagged0 + o.length * o.symbols;
    const out = new StreamWriter(length);
    const sequence = new Uint8Array(o.length);
    // Episodes back to back; a stream starts mid-episode where the split starts.
    while (!out.full) {
      out.episode();
      out.put(start);
      for (let j = 0; j < o.length; j++) out.put(tagged0 + j * o.symbols + (sequence[j] = random.nextUint32() % o.symbols));
      for (let j = 0; j < o.delay; j++) out.put(filler);
      out.put(go);
      for (let j = 0; j < o.length; j++) out.put(ask0 + j, symbol0 + sequence[j]);
    }
    return out.finish();
  },
};
