// `expire-span train`: train (or resume) a model from the command line, with the reference's flags.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from '../data/corpus.js';
import { kernels } from '../kernels/index.js';
import { makeConfig, modelName } from '../model/config.js';
import { SequenceModel } from '../model/sequence-model.js';
import { writeFileAtomic } from '../io/file.js';
import { trainingCharts } from '../report/training-charts.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from '../train/checkpoint.js';
import { DivergedError, Trainer, type Stats } from '../train/trainer.js';
import { checkTrainingFits } from './arguments.js';
import { CliError } from './errors.js';
import { makeTrainOptions, parseTrainFlags } from './flags.js';
import { describeLoss } from './metric.js';
import { EpochProgress } from './progress.js';

export const trainHelp = `Usage: expire-span train --data DATA [model and training flags] [--checkpoint DIR]

Trains a character (byte) or token model; flags and defaults are the reference's main.py ones,
so a reference command line carries over unchanged.

Data:     --data PATH|builtin:sources|task:NAME[:options]
                                        a folder (train.txt, valid.txt, test.txt of tokens, optional
                                        .labels), any file (bytes, split 90/5/5), this package's own
                                        sources, or a synthetic task (\`expire-span tasks\` lists them)
          --data-omit-labels L [L ...]  targets left out of the loss and error
Model:    --nlayers 8 --hid-sz 256 --inner-hid-sz 1024 --nheads 2 --head-dim 0 --mem-sz 64
          --attn-lim 64 --dropout 0.2 --pre-norm
          --expire-span --expire-span-loss 0 --expire-span-ramp 32 --expire-span-init-percentage 0.1
          --expire-span-pre-div 1 --expire-span-noisy --expire-span-layerdrop 0
          --adapt-span --adapt-span-loss 0 --adapt-span-len 32 --adapt-span-init 0 --adapt-span-cache
          --compress --compress-rate 4 --compress-size 128
Training: --batch-sz 64 --test-batch-sz 0 --nbatches 1000 --nepochs 1000 --optim sgd|adam
          --lr 0.03 --momentum 0.9 --lr-warmup 0 --lr-decay --grad-clip 0 --full-valid
          --seed 1 --threads 2 --max-nonfinite 20 (stop after that many updates in a row
          skipped for a non-finite loss or gradient; 0: never)
Output:   --checkpoint DIR   where checkpoints and metrics go; resumes from it when it holds one
          --checkpoint-freq N also keep a copy of every N-th epoch's checkpoint
          --full-test        only evaluate (the checkpoint's model) on the whole valid and test splits`;

const LN2 = Math.log(2);

function peakMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export async function trainCommand(argv: string[]): Promise<void> {
  const flags = parseTrainFlags(argv);
  if (flags.help) return console.log(trainHelp);
  const dir = flags.checkpoint ?? flags.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-'));
  if (flags.ignored.length > 0) console.log(`note: ${flags.ignored.join(', ')} (reference flags for GPUs, plotting or loading) change nothing here`);

  let trainer: Trainer;
  if (hasCheckpoint(dir)) {
    const saved = loadCheckpoint(dir);
    // A resume continues the saved run: the model and its streams cannot change under it.
    for (const [field, value] of Object.entries(flags.model)) {
      const was = (saved.config.model as unknown as Record<string, unknown>)[field];
      if (was !== value) throw new CliError(`${dir} holds a model trained with ${field} = ${String(was)}, not ${String(value)}: resume without model flags, or train into another folder`);
    }
    for (const field of ['batchSz', 'testBatchSz'] as const) {
      if (flags.train[field] !== undefined && flags.train[field] !== saved.config.train[field]) {
        throw new CliError(`${dir} was trained with ${field === 'batchSz' ? '--batch-sz' : '--test-batch-sz'} ${saved.config.train[field]}; a resume keeps it`);
      }
    }
    const options = makeTrainOptions({ ...saved.config.train, ...flags.train, data: flags.train.data ?? saved.config.train.data });
    kernels.setThreads(options.threads);
    const corpus = loadCorpus(options.data, { vocab: saved.vocab.kind === 'tokens' ? saved.vocab : undefined, eos: options.dataEos });
    if (!corpus.vocab.equals(saved.vocab)) throw new CliError(`--data: "${options.data}" has a different vocabulary from the checkpoint in ${dir}`);
    trainer = new Trainer(saved.model, corpus, options);
    saved.restore(trainer);
    console.log(`resuming ${dir} at epoch ${trainer.epoch}${trainer.epochBlocks > 0 ? ` (+${trainer.epochBlocks} of ${options.nbatches} batches)` : ''}, update ${trainer.step}`);
  } else {
    const options = makeTrainOptions(flags.train);
    kernels.setThreads(options.threads);
    const corpus = loadCorpus(options.data, { eos: options.dataEos });
    const config = makeConfig({ ...flags.model, vocabSize: corpus.vocab.size });
    // Refused up front rather than failing (or swapping) an allocation later.
    const streams = Math.max(options.batchSz, options.testBatchSz);
    checkTrainingFits(config, streams);
    trainer = new Trainer(new SequenceModel(config, options.seed), corpus, options);
  }
  const { model, corpus, options } = trainer;
  const c = model.config;
  console.log(
    `${modelName(c)}: ${c.nlayers} layers, ${c.hidSz} wide, ${(model.params.count / 1e6).toFixed(2)}M parameters; ` +
      `data ${corpus.name}: ${corpus.train.tokens.length.toLocaleString('en-US')} train tokens, vocabulary ${corpus.vocab.size}; kernels ${kernels.info().backend}/${kernels.info().gemm}`,
  );

  if (flags.fullTest) {
    for (const [name, split] of [['valid', corpus.valid], ['test', corpus.test]] as const) {
      const stats = trainer.evaluate(trainer.cursor(split, trainer.testBatch, name), 'full');
      console.log(`${name}: ${describeLoss(stats, corpus.metric)} over ${stats.tokens.toLocaleString('en-US')} tokens`);
    }
    return;
  }

  mkdirSync(dir, { recursive: true });
  // SIGINT / SIGTERM: finish the batch under way, save, and exit 0; a second one exits at once
  // (the last checkpoint, written atomically, stays whole).
  let stopBy: string | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopBy) process.exit(130);
    stopBy = signal;
    console.error(`\n${signal}: stopping after this batch (again to quit at once)`);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  // A failed save (full disk, unwritable folder) leaves the previous checkpoint whole: say so.
  const save = (to: string) => {
    try {
      saveCheckpoint(to, trainer);
    } catch (e) {
      const whole = hasCheckpoint(to) ? `the checkpoint in ${to} is still whole (each file is replaced only once written completely): make room and run the same command to resume` : 'no checkpoint was written';
      throw new Error(`could not save a checkpoint at update ${trainer.step}: ${(e as Error).message}; ${whole}`);
    }
  };
  const stopped = () => {
    console.log(`stopped by ${stopBy} at update ${trainer.step} (epoch ${trainer.epoch + 1}, batch ${trainer.epochBlocks} of ${options.nbatches}); saved to ${dir}: resume with \`expire-span train --checkpoint ${dir}\``);
  };
  while (trainer.epoch < options.nepochs) {
    const epoch = trainer.epoch + 1, first = trainer.epochBlocks;
    const progress = new EpochProgress(`epoch ${epoch}/${options.nepochs}`, options.nbatches);
    const started = process.hrtime.bigint();
    let train: Stats | null;
    try {
      train = await trainer.trainEpoch((done, s) => progress.update(done, s.tokens, `${((s.loss / Math.max(1, s.blocks)) / LN2).toFixed(3)} bpc`), () => stopBy !== null);
    } catch (e) {
      progress.stop();
      if (!(e instanceof DivergedError)) throw e;
      // Nothing of the diverged run is saved: the last checkpoint stays as it was.
      const last = hasCheckpoint(dir) ? `the last checkpoint in ${dir} (epoch ${trainer.epoch}) is intact` : 'no checkpoint was written';
      console.error(`expire-span: training stopped: ${e.message}; ${last}`);
      process.exitCode = 1;
      return;
    }
    progress.stop();
    if (!train) {
      save(dir);
      return stopped();
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6 / (options.nbatches - first);
    const valid = trainer.validate();
    const record = {
      epoch,
      step: trainer.step,
      train_loss: train.loss,
      train_bpc: train.loss / LN2,
      train_error: train.error,
      valid_loss: valid.loss,
      valid_bpc: valid.loss / LN2,
      valid_error: valid.error,
      aux_loss: train.aux,
      kept_memories: train.kept,
      ms_per_batch: ms,
      tokens_per_s: (train.tokens / ms / options.nbatches) * 1000,
      peak_rss_mib: peakMiB(),
      skipped_updates: train.skipped,
    };
    trainer.history.push(record);
    save(dir);
    for (const [name, svg] of trainingCharts(trainer.history, corpus.metric)) writeFileAtomic(join(dir, name), svg);
    if (flags.checkpointFreq > 0 && epoch % flags.checkpointFreq === 0) save(join(dir, `epoch-${epoch}`));
    console.log(
      `epoch ${epoch}: train ${describeLoss(train, corpus.metric)}, valid ${describeLoss(valid, corpus.metric)}, kept ${train.kept.map((k) => k.toFixed(0)).join('/')} memories per layer, ` +
        `${ms.toFixed(0)} ms/batch, ${Math.round(record.tokens_per_s).toLocaleString('en-US')} tok/s, peak ${peakMiB().toFixed(0)} MiB` +
        (train.skipped > 0 ? `, ${train.skipped} updates skipped (non-finite)` : ''),
    );
    if (stopBy && trainer.epoch < options.nepochs) return stopped();
  }
  console.log(`saved to ${dir} (resume or extend with --checkpoint ${dir}; evaluate with \`expire-span eval --checkpoint ${dir}\`; training curves in ${join(dir, 'training-*.svg')})`);
}
