// Training settings: the reference's main.py flags (names and defaults) beyond the model's, plus
// our own (seed, threads), checked together.

export interface TrainOptions {
  /** --data: a folder, a file, or builtin:sources. */
  data: string;
  /** --batch-sz: parallel streams in training. */
  batchSz: number;
  /** --test-batch-sz: streams in evaluation (0: as batch-sz). */
  testBatchSz: number;
  /** --nbatches: updates per epoch. */
  nbatches: number;
  /** --nepochs */
  nepochs: number;
  /** --optim: adam or sgd (with --momentum). */
  optim: 'adam' | 'sgd';
  lr: number;
  momentum: number;
  /** --lr-warmup: updates of linear warm-up. */
  lrWarmup: number;
  /** --lr-decay: cosine decay over the run. */
  lrDecay: boolean;
  /** --grad-clip: joint gradient-norm limit (0: none). */
  gradClip: number;
  /** --data-eos: an <eos> token after every line (folder data). */
  dataEos: boolean;
  /** --data-omit-labels: target tokens left out of the loss and the error. */
  dataOmitLabels: string[];
  /** --full-valid: validate on the whole split each epoch. */
  fullValid: boolean;
  /** --seed: initialisation, data offsets and regularisers. */
  seed: number;
  /** --threads: threads inside the kernels. */
  threads: number;
  /** --max-nonfinite: stop after this many updates in a row skipped for a non-finite loss or gradient (0: never). */
  maxNonfinite: number;
}

export const DEFAULT_TRAIN: TrainOptions = {
  data: '',
  batchSz: 64,
  testBatchSz: 0,
  nbatches: 1000,
  nepochs: 1000,
  optim: 'sgd',
  lr: 0.03,
  momentum: 0.9,
  lrWarmup: 0,
  lrDecay: false,
  gradClip: 0,
  dataEos: false,
  dataOmitLabels: [],
  fullValid: false,
  seed: 1,
  threads: 2,
  maxNonfinite: 20,
};
