// The synthetic tasks: options checked by name, deterministic splits, and each task's rules
// verified from the generated tokens alone (not from the generator's internals).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataError, loadCorpus, type Corpus } from '../src/data/corpus.js';
import { StreamBatches } from '../src/data/stream-batches.js';

const refused = (spec: string, message: RegExp) => assert.throws(() => loadCorpus(spec), (e: Error) => e instanceof DataError && message.test(e.message));
const names = (c: Corpus, ids: ArrayLike<number>) => Array.from(ids, (i) => c.vocab.tokens![i]);

describe('tasks: options and determinism', () => {
  it('refuses unknown tasks and options, and values out of range, naming them', () => {
    refused('task:nothing', /unknown task "nothing" \(tasks: copy, collision, needle/);
    refused('task:copy:dealy=5', /task:copy has no option "dealy" \(options: seed, train, valid, test, length, symbols, delay\)/);
    refused('task:copy:delay=-1', /task:copy: delay must be an integer in \[0, 1000000\], got "-1"/);
    refused('task:copy:delay=1.5', /delay must be an integer/);
    refused('task:copy:delay=', /delay must be an integer in \[0, 1000000\], got ""/);
    refused('task:collision:speed=x', /task:collision: speed must be a number in \[0.01, 8\], got "x"/);
    refused('task:copy:length=60,symbols=60', /length x \(symbols \+ 1\) \+ symbols must stay under 254/);
    refused('task:collision:cells=1,grid=16', /cells=1 needs grid x grid \+ 2 x colours \+ 4 tokens, at most 256; got grid 16 and 5 colours/);
    refused('task:collision:cells=2', /cells must be an integer in \[0, 1\], got "2"/);
    refused('task:needle:train=1e10', /train must be an integer in \[1, 1000000000\]/);
  });

  it('is a function of its spec: same spec, same splits; another seed, other data', () => {
    for (const name of ['copy', 'needle', 'collision']) {
      const a = loadCorpus(`task:${name}:train=5000,valid=500,test=500`), b = loadCorpus(`task:${name}:train=5000,valid=500,test=500`);
      const c = loadCorpus(`task:${name}:train=5000,valid=500,test=500,seed=2`);
      assert.deepEqual(a.train.tokens, b.train.tokens);
      assert.deepEqual(a.test.labels, b.test.labels);
      assert.notDeepEqual(a.train.tokens, c.train.tokens, `${name}: seed changes the data`);
      assert.notDeepEqual(a.valid.tokens, a.test.tokens.subarray(0, 500), `${name}: splits differ`);
      assert.equal(a.train.tokens.length, 5000);
      assert.equal(a.train.labels!.length, 5000);
    }
  });
});

describe('tasks: rules', () => {
  it('copy: after "go", r_j asks for the symbol tagged with place j before the filler', () => {
    const c = loadCorpus('task:copy:delay=37,length=5,symbols=7,train=3000,valid=100,test=100');
    assert.equal(c.metric, 'accuracy');
    const tokens = names(c, c.train.tokens), labels = Array.from(c.train.labels!, (l) => (l < 0 ? null : c.vocab.tokens![l]));
    const episode = 1 + 5 + 37 + 1 + 5;
    let checked = 0;
    for (let at = 0; at + episode <= tokens.length; at += episode) {
      assert.equal(tokens[at], 'start');
      const tagged = tokens.slice(at + 1, at + 6);
      assert.deepEqual(tagged.map((t) => t.split(':')[0]), ['e1', 'e2', 'e3', 'e4', 'e5']);
      assert.ok(tokens.slice(at + 6, at + 43).every((t) => t === '.'));
      assert.equal(tokens[at + 43], 'go');
      for (let j = 0; j < 5; j++) {
        assert.equal(tokens[at + 44 + j], `r${j + 1}`);
        assert.equal(labels[at + 44 + j], tagged[j].split(':')[1], 'the target is the tagged symbol');
        checked++;
      }
      assert.ok(labels.slice(at, at + 44).every((l) => l === null), 'only the repeat is scored');
    }
    assert.ok(checked > 250);
  });

  it('needle: the question\'s answer is the key before the noise, within the gap', () => {
    const c = loadCorpus('task:needle:gap=30,jitter=10,keys=5,noise=6,train=4000,valid=100,test=100');
    const tokens = names(c, c.train.tokens), labels = c.train.labels!;
    let key: string | null = null, since = 0, asked = 0;
    const gaps = new Set<number>();
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.startsWith('key')) [key, since] = [t, 0];
      else if (t === '?') {
        if (key !== null) {
          assert.equal(c.vocab.tokens![labels[i]], key);
          gaps.add(since);
          asked++;
        }
        key = null;
      } else {
        assert.match(t, /^n\d$/);
        assert.equal(labels[i], -1);
        since++;
      }
    }
    assert.ok(asked > 100);
    assert.ok(Math.min(...gaps) >= 20 && Math.max(...gaps) <= 30 && gaps.size > 5, `gaps ${[...gaps].sort()}`);
  });

  it('collision: every scored query is the quadrant where its two colours last met, replayed from the frames', () => {
    const c = loadCorpus('task:collision:grid=6,particles=3,colours=4,train=80000,valid=100,test=100');
    assert.equal(c.metric, 'error');
    const tokens = names(c, c.train.tokens), labels = c.train.labels!, G = 6, frame = 3 * 3 + 2;
    const lastMet = new Map<string, number>();
    const key = (a: number, b: number) => `${Math.min(a, b)}-${Math.max(a, b)}`;
    let scored = 0, unscoredNeverMet = 0, previous: number[][] | null = null;
    for (let at = 0; at + frame <= tokens.length; at += frame) {
      const particles = [0, 1, 2].map((p) => {
        const [r, col, k] = tokens.slice(at + 3 * p, at + 3 * p + 3);
        assert.match(r, /^r\d+$/), assert.match(col, /^c\d+$/), assert.match(k, /^k\d+$/);
        return [Number(r.slice(1)), Number(col.slice(1)), Number(k.slice(1))];
      });
      // Particles stay on the grid and move a bounded distance per frame.
      for (const [p, [r, col]] of particles.entries()) {
        assert.ok(r >= 0 && r < G && col >= 0 && col < G);
        if (previous) assert.ok(Math.abs(r - previous[p][0]) <= G && Math.abs(col - previous[p][1]) <= G);
      }
      previous = particles;
      for (let p = 0; p < 3; p++) {
        for (let q = p + 1; q < 3; q++) {
          if (particles[p][0] === particles[q][0] && particles[p][1] === particles[q][1]) {
            lastMet.set(key(particles[p][2], particles[q][2]), 1 + 2 * Number(2 * particles[p][0] + 1 > G) + Number(2 * particles[p][1] + 1 > G));
          }
        }
      }
      const [qa, qb] = tokens.slice(at + frame - 2, at + frame).map((t) => Number(t.replace(/^q/, '')));
      const expected = lastMet.get(key(qa, qb));
      for (let i = at; i < at + frame - 1; i++) assert.equal(labels[i], -1);
      const label = labels[at + frame - 1];
      if (expected === undefined) (assert.equal(label, -1), unscoredNeverMet++);
      else (assert.equal(c.vocab.tokens![label], `quadrant${expected}`), scored++);
    }
    assert.ok(scored > 1000 && unscoredNeverMet > 10, `scored ${scored}, never met ${unscoredNeverMet}`);
  });

  it('collision with cells=1: the same frames and targets, each position one token s<row>_<column>', () => {
    const spec = 'grid=5,particles=3,colours=4,train=20000,valid=100,test=100';
    const plain = loadCorpus(`task:collision:${spec}`), cells = loadCorpus(`task:collision:${spec},cells=1`);
    const rows = names(plain, plain.train.tokens), joined = names(cells, cells.train.tokens);
    const target = (c: Corpus, label: number) => (label < 0 ? 'none' : c.vocab.tokens![label]);
    let at = 0;
    for (let f = 0; f * 11 + 11 <= rows.length && at + 8 <= joined.length; f++, at += 8) {
      const frame = rows.slice(f * 11, f * 11 + 11);
      const expected = [0, 1, 2].flatMap((p) => [`s${frame[3 * p].slice(1)}_${frame[3 * p + 1].slice(1)}`, frame[3 * p + 2]]).concat(frame.slice(9));
      assert.deepEqual(joined.slice(at, at + 8), expected, `frame ${f}`);
      assert.equal(target(cells, cells.train.labels![at + 7]), target(plain, plain.train.labels![f * 11 + 10]), `frame ${f}'s target`);
    }
    assert.ok(at > 10000);
  });
});

describe('tasks: training', () => {
  it('a stream cut mid-episode scores only questions about what it has shown', () => {
    for (const spec of ['task:copy:delay=37,length=3,symbols=5,train=100,valid=100,test=2000', 'task:needle:gap=30,jitter=10,train=100,valid=100,test=2000']) {
      const c = loadCorpus(spec), batch = 7, M = 16;
      const batches = new StreamBatches(c.test, batch, M, 'test');
      const x = new Int32Array(batch * M), y = new Int32Array(batch * M);
      const streams = Array.from({ length: batch }, () => ({ x: [] as string[], y: [] as number[] }));
      for (let k = 0; k < batches.blocksPerPass; k++) {
        batches.read(x, y);
        for (let b = 0; b < batch; b++) for (let i = 0; i < M; i++) (streams[b].x.push(c.vocab.tokens![x[b * M + i]]), streams[b].y.push(y[b * M + i]));
        batches.advance();
      }
      const opening = spec.includes('copy') ? (t: string) => t === 'start' : (t: string) => t.startsWith('key');
      let scored = 0, withheld = 0;
      for (const { x: tokens, y: targets } of streams) {
        const first = tokens.findIndex(opening);
        tokens.forEach((token, i) => {
          const question = /^r\d+$|^\?$/.test(token), shown = first >= 0 && first < i;
          if (question) assert.equal(targets[i] >= 0, shown, `${spec}: question at ${i}, stream's first episode at ${first}`);
          else assert.ok(targets[i] < 0, 'only questions are scored');
          if (question) (shown ? scored++ : withheld++);
        });
      }
      assert.ok(scored > 0 && withheld > 0, `${spec}: ${scored} scored, ${withheld} withheld`);
    }
    // A task of one long episode (collision) keeps every target.
    const c = loadCorpus('task:collision:grid=4,train=100,valid=100,test=2000'), batches = new StreamBatches(c.test, 4, 16, 'test');
    const x = new Int32Array(64), y = new Int32Array(64);
    let scored = 0, labelled = 0;
    for (let k = 0; k < batches.blocksPerPass; k++) {
      batches.read(x, y);
      scored += y.filter((v) => v >= 0).length;
      batches.advance();
    }
    for (let b = 0; b < 4; b++) labelled += c.test.labels!.subarray(b * batches.length, b * batches.length + batches.blocksPerPass * 16).filter((v) => v >= 0).length;
    assert.ok(scored > 0 && scored === labelled, `collision: ${scored} of ${labelled} targets scored`);
  });

  it('a block that asks nothing does no update and is not counted as a failure', async () => {
    const { makeConfig } = await import('../src/model/config.js');
    const { SequenceModel } = await import('../src/model/sequence-model.js');
    const { Trainer } = await import('../src/train/trainer.js');
    const { DEFAULT_TRAIN } = await import('../src/train/options.js');
    const corpus = loadCorpus('task:needle:gap=60,jitter=0,train=4000,valid=400,test=400');
    const model = new SequenceModel(makeConfig({ vocabSize: corpus.vocab.size, nlayers: 1, hidSz: 8, innerHidSz: 16, nheads: 1, memSz: 8, attnLim: 16, dropout: 0 }), 1);
    const trainer = new Trainer(model, corpus, { ...DEFAULT_TRAIN, data: 'task:needle', batchSz: 1, optim: 'adam', lr: 1e-3, nbatches: 40 });
    const stats = trainer.trainBlocks(40);
    // One question every 62 steps: most blocks of 8 ask nothing.
    assert.equal(stats.skipped, 0);
    assert.ok(trainer.step > 0 && trainer.step < 15, `${trainer.step} updates in 40 blocks`);
    assert.equal(stats.counted, trainer.step, 'one update per block with a question (one question per block at most)');
    assert.ok(stats.error !== null && Number.isFinite(stats.loss) && stats.loss > 0);
  });
});
