// `expire-span eval --checkpoint DIR [--data DATA] [--split valid|test]`: the whole split, with
// memory carried from the first block to the last.
import { loadCorpus } from '../data/corpus.js';
import { kernels } from '../kernels/index.js';
import { evaluationBytes } from '../model/config.js';
import { Trainer } from '../train/trainer.js';
import { checkFitsInMemory, numberFlag, openCheckpoint, parseFlags, threadsFlag } from './arguments.js';
import { CliError } from './errors.js';
import { makeTrainOptions } from './flags.js';
import { EpochProgress } from './progress.js';
import { describeLoss, metricValue } from './metric.js';

export const evalHelp = `Usage: expire-span eval --checkpoint DIR [--data DATA] [--split valid|test] [--test-batch-sz N] [--threads N]

Evaluates a trained model over a whole split (default: test) of its training data (or of --data,
which must have the same vocabulary) and prints bits per character, or error % for labelled data.`;

export function evalCommand(argv: string[]): void {
  const values = parseFlags('eval', argv, {
    checkpoint: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string', default: 'test' },
    'test-batch-sz': { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return console.log(evalHelp);
  if (values.split !== 'valid' && values.split !== 'test') throw new CliError(`--split must be valid or test, got "${values.split}"`);
  const dir = values.checkpoint!;
  const saved = openCheckpoint('eval', dir);
  const number = (flag: string, v: string | undefined) => numberFlag(flag, v, { integer: true, min: 1, max: 1 << 20 });
  const options = makeTrainOptions({
    ...saved.config.train,
    data: values.data ?? saved.config.train.data,
    testBatchSz: number('test-batch-sz', values['test-batch-sz']) ?? saved.config.train.testBatchSz,
    threads: threadsFlag(values.threads) ?? saved.config.train.threads,
  });
  checkFitsInMemory(evaluationBytes(saved.model.config, options.testBatchSz), 'this model', `to evaluate with ${options.testBatchSz} streams`, '--test-batch-sz');
  kernels.setThreads(options.threads);
  const corpus = loadCorpus(options.data, { vocab: saved.vocab.kind === 'tokens' ? saved.vocab : undefined, eos: options.dataEos });
  if (!corpus.vocab.equals(saved.vocab)) throw new CliError(`--data: "${options.data}" has a different vocabulary from the checkpoint in ${dir}`);
  const trainer = new Trainer(saved.model, corpus, options);
  const split = values.split === 'valid' ? corpus.valid : corpus.test;
  const cursor = trainer.cursor(split, trainer.testBatch, values.split);
  const progress = new EpochProgress(`eval ${values.split}`, cursor.batches.blocksPerPass);
  const stats = trainer.evaluate(cursor, 'full', (done) => progress.update(done, done * trainer.testBatch * saved.model.config.memSz, ''));
  progress.stop();
  if (values.json) console.log(JSON.stringify({ split: values.split, loss: stats.loss, bpc: stats.loss / Math.LN2, error: stats.error, metric: corpus.metric, value: metricValue(stats, corpus.metric), kept: stats.kept, tokens: stats.tokens }));
  else console.log(`${values.split}: ${describeLoss(stats, corpus.metric)} over ${stats.tokens.toLocaleString('en-US')} tokens (${dir})`);
}
