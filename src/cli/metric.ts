// The figure people read for a run: bits per character (token) for text, error % or accuracy %
// on the scored targets for labelled data and tasks.
import type { Corpus } from '../data/corpus.js';
import type { Stats } from '../train/trainer.js';

export type Metric = Corpus['metric'];

/** The metric's value: bpc, or a percentage. */
export function metricValue(stats: Stats, metric: Metric): number {
  if (metric === 'bpc' || stats.error === null) return stats.loss / Math.LN2;
  return 100 * (metric === 'error' ? stats.error : 1 - stats.error);
}

export function metricLabel(metric: Metric): string {
  return metric === 'bpc' ? 'bpc' : metric === 'error' ? 'error %' : 'accuracy %';
}

export function describeLoss(stats: Stats, metric: Metric): string {
  const bpc = `${(stats.loss / Math.LN2).toFixed(3)} bpc`;
  if (metric === 'bpc' || stats.error === null) return bpc;
  return `${metricValue(stats, metric).toFixed(1)}% ${metric} (${bpc})`;
}
