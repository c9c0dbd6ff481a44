// Charts: round ticks, text escaped, one line per series (thinned when long), training curves
// from a run's history.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineChart, ticks } from '../src/report/svg-chart.js';
import { trainingCharts } from '../src/report/training-charts.js';

describe('SVG charts', () => {
  it('ticks are round and cover the range', () => {
    assert.deepEqual(ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(ticks(3, 97), [20, 40, 60, 80]);
    assert.deepEqual(ticks(0, 512), [0, 100, 200, 300, 400, 500]);
    assert.deepEqual(ticks(5, 5), [5]);
  });

  it('escapes text, draws one line per series and thins long ones', () => {
    const long = Array.from({ length: 50000 }, (_, i): [number, number] => [i, Math.sin(i)]);
    const svg = lineChart({ title: 'a <b> & "c"', xLabel: 'x', yLabel: 'y', series: [{ name: 'long', points: long }, { name: 'one', points: [[1, 2]] }] });
    assert.ok(!svg.includes('<b>') && svg.includes('a &#60;b&#62; &#38; &#34;c&#34;'));
    const lines = svg.match(/<polyline [^>]*points="([^"]*)"/g) ?? [];
    assert.equal(lines.length, 1);
    const points = lines[0].split(' ').length;
    assert.ok(points > 1000 && points < 2100, `${points} points drawn`);
    assert.match(svg, /<circle /, 'a single point is drawn as a dot');
  });
});

describe('training charts', () => {
  it('plots the metric, kept memories per layer and speed per epoch', () => {
    const history = [1, 2, 3].map((epoch) => ({ epoch, train_error: 0.5 / epoch, valid_error: 0.6 / epoch, train_bpc: 3 / epoch, valid_bpc: null, kept_memories: [10, 20 * epoch], tokens_per_s: 1000 }));
    const accuracy = trainingCharts(history, 'accuracy');
    assert.deepEqual([...accuracy.keys()], ['training-metric.svg', 'training-kept.svg', 'training-speed.svg']);
    assert.match(accuracy.get('training-metric.svg')!, /accuracy % per epoch/);
    assert.equal(accuracy.get('training-kept.svg')!.match(/<polyline /g)?.length, 2);
    // Text: bpc of training only (validation has none here): one line.
    assert.equal(trainingCharts(history, 'bpc').get('training-metric.svg')!.match(/<polyline /g)?.length, 1);
  });
});
