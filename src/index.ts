// The library API: everything the CLI is built from, for programs that train, evaluate or look
// inside models themselves.
export { kernels, nativeKernels, referenceKernels, KernelArgumentError, type Kernels, type KernelInfo } from './kernels/index.js';
export { Tensor, type Shape } from './tensor/tensor.js';
export { Tape } from './tensor/tape.js';
export { Random } from './tensor/random.js';
export * as ops from './tensor/ops.js';
export { makeConfig, configFromReferenceArgs, modelName, ConfigError, DEFAULT_CONFIG, type ModelConfig } from './model/config.js';
export { SequenceModel, type BlockResult, type ForwardOptions } from './model/sequence-model.js';
export { MemoryState, type LayerMemory } from './model/memory-state.js';
export { ModelStream, type StreamOutput } from './model/model-stream.js';
export { sampleToken, type SamplingOptions } from './model/sampling.js';
export { inspectTokens, type Inspection, type LayerInspection } from './model/inspection.js';
export { inspectPage, textPieces, type Piece } from './report/inspect-page.js';
export { spanHistogram, keptOverTime } from './report/inspect-charts.js';
export { trainingCharts } from './report/training-charts.js';
export { lineChart, type ChartOptions, type Series } from './report/svg-chart.js';
export { loadCorpus, DataError, type Corpus, type Split } from './data/corpus.js';
export { Vocabulary } from './data/vocabulary.js';
export { StreamBatches } from './data/stream-batches.js';
export { Trainer, type Stats } from './train/trainer.js';
export { DEFAULT_TRAIN, type TrainOptions } from './train/options.js';
export { Adam } from './train/adam.js';
export { Sgd } from './train/sgd.js';
export { clipGradNorm, gradNorm } from './train/clip.js';
export { saveCheckpoint, loadCheckpoint, hasCheckpoint } from './train/checkpoint.js';
export { runParity, type ParityReport } from './train/parity.js';
export { parseSafetensors, serializeSafetensors, SafetensorsError } from './io/safetensors.js';
export { readSafetensorsFile, writeSafetensorsFile, writeFileAtomic } from './io/file.js';
