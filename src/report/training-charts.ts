// Training curves from a run's history (one record per epoch, as in metrics.jsonl): the metric
// (bpc, or error / accuracy % for labelled data), memories kept per layer, and tokens/s.
import { lineChart, type Series } from './svg-chart.js';

export type HistoryRecord = Record<string, unknown>;

const num = (v: unknown) => (typeof v === 'number' ? v : NaN);

function curve(history: HistoryRecord[], field: string): [number, number][] {
  return history.map((r): [number, number] => [num(r.epoch), num(r[field])]).filter(([, y]) => Number.isFinite(y));
}

/** File name -> SVG text, for every chart the history has data for. */
export function trainingCharts(history: HistoryRecord[], metric: 'bpc' | 'error' | 'accuracy'): Map<string, string> {
  const charts = new Map<string, string>();
  const [field, label, transform] =
    metric === 'bpc' ? (['bpc', 'bits per character', (v: number) => v] as const)
    : metric === 'error' ? (['error', 'error %', (v: number) => v * 100] as const)
    : (['error', 'accuracy %', (v: number) => 100 - v * 100] as const);
  const series: Series[] = (['train', 'valid'] as const).map((split) => ({
    name: split,
    points: curve(history, `${split}_${field}`).map(([x, y]): [number, number] => [x, transform(y)]),
  }));
  charts.set('training-metric.svg', lineChart({ title: `${label} per epoch`, xLabel: 'epoch', yLabel: label, series }));
  const layers = Math.max(0, ...history.map((r) => (Array.isArray(r.kept_memories) ? r.kept_memories.length : 0)));
  const kept = Array.from({ length: layers }, (_, l) => ({
    name: `layer ${l + 1}`,
    points: history.map((r): [number, number] => [num(r.epoch), num((r.kept_memories as unknown[] | undefined)?.[l])]).filter(([, y]) => Number.isFinite(y)),
  }));
  charts.set('training-kept.svg', lineChart({ title: 'memories kept per stream (training)', xLabel: 'epoch', yLabel: 'memories', series: kept, yFromZero: true }));
  charts.set('training-speed.svg', lineChart({ title: 'training speed', xLabel: 'epoch', yLabel: 'tokens/s', series: [{ name: 'tokens/s', points: curve(history, 'tokens_per_s') }], yFromZero: true }));
  return charts;
}
