// Charts of an inspection: how spans are distributed in each layer, and how many of the text's
// tokens each layer holds as the text goes on.
import type { Inspection } from '../model/inspection.js';
import { lineChart } from './svg-chart.js';

const BINS = 32;

export function spanHistogram(inspection: Inspection): string {
  const width = inspection.attnLim / BINS;
  const series = inspection.layers.map((layer, l) => {
    const counts = new Array(BINS).fill(0);
    for (const s of layer.spans) counts[Math.min(BINS - 1, Math.floor(s / width))]++;
    // Steps from each bin's left edge, closed at attn-lim.
    const points = counts.map((n, b): [number, number] => [b * width, n]);
    points.push([inspection.attnLim, counts[BINS - 1]]);
    return { name: `layer ${l + 1}`, points };
  });
  return lineChart({ title: `${inspection.model}: spans per layer`, xLabel: 'span (tokens)', yLabel: 'tokens', series, steps: true, yFromZero: true });
}

export function keptOverTime(inspection: Inspection): string {
  const series = inspection.layers.map((layer, l) => ({ name: `layer ${l + 1}`, points: Array.from(layer.kept, (k, t): [number, number] => [t, k]) }));
  return lineChart({ title: `${inspection.model}: memories held`, xLabel: 'position in the text', yLabel: 'memories of the text held', series, yFromZero: true });
}
