// Documented CPU-sized comparisons for `expire-span compare --preset NAME` (results measured on
// the project machine are in README.md). Each preset: the data, flags shared by every model, and
// one run per model with its own flags.

export interface Run {
  name: string;
  flags: string[];
}

export interface Preset {
  name: string;
  summary: string;
  /** The data spec; a preset without one (text) needs --data. */
  data?: string;
  shared: string[];
  runs: Run[];
}

const words = (s: string) => s.split(/\s+/).filter((w) => w !== '');

/** The models of `compare` when no --run is given: each enabled by its own flag only. */
export const DEFAULT_RUNS: Run[] = [
  { name: 'expire-span', flags: ['--expire-span'] },
  { name: 'transformer-xl', flags: [] },
  { name: 'adaptive-span', flags: ['--adapt-span'] },
  { name: 'compressive', flags: ['--compress'] },
];

const TASK_TRAINING = '--optim adam --lr 0.001 --lr-warmup 100 --grad-clip 0.3 --dropout 0 --pre-norm --test-batch-sz 16';

export const PRESETS: Preset[] = [
  {
    name: 'copy',
    summary: 'copy 4 symbols (of 8) over a delay of 300, longer than the window (180) of a Transformer-XL of equal memory',
    data: 'task:copy:delay=300,length=4,symbols=8,train=400000,valid=40000,test=40000',
    shared: words(`--nlayers 2 --hid-sz 128 --inner-hid-sz 256 --nheads 8 --mem-sz 32 --batch-sz 16 --nbatches 500 --nepochs 16 --lr-decay ${TASK_TRAINING}`),
    runs: [
      { name: 'expire-span', flags: words('--expire-span --attn-lim 512 --expire-span-init-percentage 0.75 --expire-span-ramp 128 --expire-span-loss 3e-7') },
      // As many memories as Expire-Span keeps on average (about 180).
      { name: 'transformer-xl', flags: words('--attn-lim 180') },
    ],
  },
  {
    name: 'needle',
    summary: 'recall a key through 150-200 noise tokens; Transformer-XL with a window of 64',
    data: 'task:needle:gap=200,jitter=50,train=400000,valid=40000,test=40000',
    shared: words(`--nlayers 2 --hid-sz 128 --inner-hid-sz 256 --nheads 8 --mem-sz 32 --batch-sz 16 --nbatches 500 --nepochs 6 --lr-decay ${TASK_TRAINING}`),
    runs: [
      { name: 'expire-span', flags: words('--expire-span --attn-lim 512 --expire-span-init-percentage 0.6 --expire-span-ramp 128 --expire-span-loss 1e-6') },
      { name: 'transformer-xl', flags: words('--attn-lim 64') },
    ],
  },
  {
    name: 'collision',
    summary: 'object collision on a 4x4 grid with 3 colours, one token per cell; Adaptive-Span at the same attn-lim and with about as many memories as Expire-Span keeps',
    data: 'task:collision:grid=4,colours=3,cells=1,train=2000000,valid=80000,test=80000',
    shared: words(`--nlayers 3 --hid-sz 128 --inner-hid-sz 512 --nheads 4 --mem-sz 64 --batch-sz 16 --attn-lim 1024 --nbatches 500 --nepochs 8 --lr-decay ${TASK_TRAINING}`),
    runs: [
      // Spans start at about 10 steps (+ the ramp), as Adaptive-Span's start at 0: short memory
      // first, grown where it helps (with 0.1 of attn-lim, 47.6% over four seeds against 46.5%).
      { name: 'expire-span', flags: words('--expire-span --expire-span-init-percentage 0.01 --expire-span-ramp 64 --expire-span-loss 1e-5') },
      { name: 'adaptive-span', flags: words('--adapt-span --adapt-span-len 64 --adapt-span-loss 1e-6 --adapt-span-cache') },
      // As many memories as Expire-Span keeps on average, or a few more (it keeps about 110).
      { name: 'adaptive-span-128', flags: words('--adapt-span --adapt-span-len 64 --adapt-span-loss 1e-6 --adapt-span-cache --attn-lim 128') },
    ],
  },
  {
    name: 'char',
    summary: 'the small character-level config (README) on a text file of your own: --data FILE',
    shared: words('--nlayers 4 --hid-sz 256 --inner-hid-sz 1024 --nheads 4 --mem-sz 128 --batch-sz 16 --attn-lim 1024 --dropout 0 --optim adam --lr 0.001 --lr-warmup 50 --grad-clip 0.3 --nbatches 100 --nepochs 3 --test-batch-sz 16'),
    runs: [
      { name: 'expire-span', flags: words('--expire-span --expire-span-ramp 32 --expire-span-loss 1e-6 --expire-span-pre-div 64') },
      { name: 'transformer-xl', flags: [] },
      { name: 'adaptive-span', flags: words('--adapt-span --adapt-span-loss 1e-6 --adapt-span-cache') },
      { name: 'compressive', flags: words('--compress --compress-rate 4 --compress-size 512 --attn-lim 512') },
    ],
  },
];
