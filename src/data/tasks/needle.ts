// Needle: one key token, then a long run of random noise, then a question whose answer is the key.
//   key_k  n n n ... n  ?      (target at "?": key_k)
// The gap is drawn per episode from [gap - jitter, gap], so only the key's content (not its
// distance) tells where it is. The smallest test that spans are learned per content: the key must
// be kept, every noise token may expire at once. Chance is 1 / keys.
import { option, StreamWriter, type Task } from './task.js';

export const needleTask: Task = {
  name: 'needle',
  summary: 'recall one early key token through a long run of noise',
  metric: 'accuracy',
  options: [
    option('keys', 8, 2, 100, 'possible key values (chance accuracy is 1 / keys)'),
    option('noise', 16, 1, 100, 'distinct noise tokens'),
    option('gap', 200, 1, 1_000_000, 'longest run of noise between the key and the question'),
    option('jitter', 50, 0, 1_000_000, 'the gap is drawn from [gap - jitter, gap]'),
  ],
  tokens: (o) => ['?', ...Array.from({ length: o.keys }, (_, i) => `key${i}`), ...Array.from({ length: o.noise }, (_, i) => `n${i}`)],
  generate(o, random, length) {
    const ask = 0, firstKey = 1, firstNoise = 1 + o.keys;
    const jitter = Math.min(o.jitter, o.gap - 1);
    const out = new StreamWriter(length);
    while (!out.full) {
      out.episode();
      const key = firstKey + (random.nextUint32() % o.keys);
      out.put(key);
      const gap = o.gap - (random.nextUint32() % (jitter + 1));
      for (let j = 0; j < gap; j++) out.put(firstNoise + (random.nextUint32() % o.noise));
      out.put(ask, key);
    }
    return out.finish();
  },
};
