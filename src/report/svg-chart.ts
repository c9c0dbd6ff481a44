// Line charts as standalone SVG text: axes with round ticks, one polyline per series, a legend.
// Enough for training curves and span statistics, with no plotting dependency.

export interface Series {
  name: string;
  points: [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Draw each series as steps (a histogram's bins) instead of straight segments. */
  steps?: boolean;
  /** Start the y axis at 0 (counts, sizes) rather than at the smallest value. */
  yFromZero?: boolean;
}

const WIDTH = 640, HEIGHT = 360;
const LEFT = 64, RIGHT = 150, TOP = 36, BOTTOM = 48;
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
/** Points per series drawn at most; longer series are thinned evenly. */
const MAX_POINTS = 2000;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** About five round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const rough = (hi - lo) / 5, power = 10 ** Math.floor(Math.log10(rough));
  // The round step (1, 2 or 5 times a power of ten) nearest the rough one.
  const step = [1, 2, 5, 10].map((m) => m * power).reduce((a, b) => (Math.abs(Math.log(b / rough)) < Math.abs(Math.log(a / rough)) ? b : a));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(4));
}

function thin(points: [number, number][]): [number, number][] {
  if (points.length <= MAX_POINTS) return points;
  const stride = points.length / MAX_POINTS;
  return Array.from({ length: MAX_POINTS }, (_, i) => points[Math.floor(i * stride)]).concat([points[points.length - 1]]);
}

export function lineChart({ title, xLabel, yLabel, series, steps = false, yFromZero = false }: ChartOptions): string {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  let [x0, x1] = all.length ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = all.length ? [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))] : [0, 1];
  if (yFromZero) y0 = Math.min(0, y0);
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const plotW = WIDTH - LEFT - RIGHT, plotH = HEIGHT - TOP - BOTTOM;
  const sx = (x: number) => LEFT + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => TOP + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`,
  ];
  for (const v of ticks(x0, x1)) {
    parts.push(`<line x1="${f(sx(v))}" y1="${TOP + plotH}" x2="${f(sx(v))}" y2="${TOP + plotH + 4}" stroke="#444"/>`);
    parts.push(`<text x="${f(sx(v))}" y="${TOP + plotH + 17}" text-anchor="middle">${label(v)}</text>`);
  }
  for (const v of ticks(y0, y1)) {
    parts.push(`<line x1="${LEFT}" y1="${f(sy(v))}" x2="${LEFT + plotW}" y2="${f(sy(v))}" stroke="#ddd"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${f(sy(v) + 4)}" text-anchor="end">${label(v)}</text>`);
  }
  parts.push(`<text x="${LEFT + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const points = thin(s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
    const path = steps ? points.flatMap(([x, y], j) => (j + 1 < points.length ? [[x, y], [points[j + 1][0], y]] : [[x, y]])) : points;
    if (path.length === 1) parts.push(`<circle cx="${f(sx(path[0][0]))}" cy="${f(sy(path[0][1]))}" r="3" fill="${colour}"/>`);
    else if (path.length > 1) parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${path.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ')}"/>`);
    const ly = TOP + 8 + i * 18;
    parts.push(`<line x1="${LEFT + plotW + 12}" y1="${ly}" x2="${LEFT + plotW + 32}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`);
    parts.push(`<text x="${LEFT + plotW + 38}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>\n');
  return parts.join('\n');
}
