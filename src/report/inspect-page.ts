// The inspect page: the text coloured by each token's span in the chosen layer (a scale from 0
// to attn-lim, as in the paper's Figure 8), with a layer selector, a legend, and on hover the
// token's span, how far back it is seen and its age at the end of the text. One self-contained
// HTML file: data as JSON in the page, no external resources.
import type { Vocabulary } from '../data/vocabulary.js';
import type { Inspection } from '../model/inspection.js';
import { escapeXml } from './svg-chart.js';

/** A piece of displayed text and the tokens it stands for: [text, first token, token count]. */
export type Piece = [string, number, number];

/** Bytes grouped into UTF-8 characters (a character's bytes share one piece); tokens one each. */
export function textPieces(vocab: Vocabulary, tokens: Int32Array): Piece[] {
  const pieces: Piece[] = [];
  if (vocab.kind === 'tokens') {
    tokens.forEach((id, i) => pieces.push([vocab.decode([id]) + ' ', i, 1]));
    return pieces;
  }
  const decoder = new TextDecoder();
  for (let i = 0; i < tokens.length; ) {
    let j = i + 1;
    // Continuation bytes (10xxxxxx) belong to the character their lead byte starts.
    while (j < tokens.length && j - i < 4 && (tokens[j] & 0xc0) === 0x80) j++;
    pieces.push([decoder.decode(Uint8Array.from(tokens.subarray(i, j))), i, j - i]);
    i = j;
  }
  return pieces;
}

const round = (v: number) => Math.round(v * 10) / 10;

export function inspectPage(inspection: Inspection, pieces: Piece[], source: string): string {
  const data = {
    model: inspection.model,
    attnLim: inspection.attnLim,
    ramp: inspection.ramp,
    tokens: inspection.tokens.length,
    pieces,
    layers: inspection.layers.map((l) => ({ spans: Array.from(l.spans, round), reach: Array.from(l.reach), kept: Array.from(l.kept), headSpans: l.headSpans?.map(round) })),
  };
  // "<" escaped so that no text in the data can close the script element.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const title = `What ${inspection.model} keeps: ${source}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>
  body { font-family: sans-serif; margin: 0; color: #222; }
  header { position: sticky; top: 0; background: #fafafa; border-bottom: 1px solid #ccc; padding: 8px 16px; }
  h1 { font-size: 16px; margin: 0 0 6px; }
  .row { display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }
  #legend { display: flex; align-items: center; gap: 6px; font-size: 12px; }
  #legend-bar { width: 240px; height: 12px; border: 1px solid #888; }
  #info { font-size: 13px; min-height: 1.3em; font-family: monospace; }
  #text { font-family: monospace; font-size: 14px; line-height: 1.6; white-space: pre-wrap; word-break: break-all; padding: 12px 16px; }
  #text span:hover { outline: 2px solid #000; }
</style>
</head>
<body>
<header>
  <h1 id="title">${escapeXml(title)}</h1>
  <div class="row">
    <label>Layer <select id="layer"></select></label>
    <div id="legend"><span>span 0</span><canvas id="legend-bar" width="240" height="12"></canvas><span id="legend-max"></span></div>
    <span id="summary"></span>
  </div>
  <div id="info">Hover a character to see its span.</div>
</header>
<div id="text"></div>
<script id="data" type="application/json">${json}</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
// A perceptually ordered scale (dark blue, teal, green, yellow) for 0 .. attn-lim.
const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function colour(v) {
  const x = Math.max(0, Math.min(1, v)) * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  return stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * f));
}
const text = document.getElementById("text"), info = document.getElementById("info"), select = document.getElementById("layer");
const spansOf = (layer, [, first, count]) => Math.max(...data.layers[layer].spans.slice(first, first + count));
const elements = data.pieces.map((piece, i) => {
  const el = document.createElement("span");
  el.textContent = piece[0];
  el.dataset.i = String(i);
  text.appendChild(el);
  return el;
});
data.layers.forEach((l, i) => {
  const mean = (a) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  const option = document.createElement("option");
  option.value = String(i);
  option.textContent = "layer " + (i + 1) + ": mean span " + mean(l.spans).toFixed(1) + ", holds " + mean(l.kept).toFixed(0) + " on average";
  select.appendChild(option);
});
function paint() {
  const layer = Number(select.value);
  data.pieces.forEach((piece, i) => {
    const [r, g, b] = colour(spansOf(layer, piece) / data.attnLim);
    elements[i].style.background = "rgb(" + r + "," + g + "," + b + ")";
    elements[i].style.color = 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#000" : "#fff";
  });
  const heads = data.layers[layer].headSpans;
  document.getElementById("summary").textContent = data.model + ", attn-lim " + data.attnLim + ", ramp " + data.ramp + ", " + data.tokens + " tokens" + (heads ? "; head spans " + heads.join(", ") : "");
}
const bar = document.getElementById("legend-bar").getContext("2d");
for (let x = 0; x < 240; x++) {
  const [r, g, b] = colour(x / 239);
  bar.fillStyle = "rgb(" + r + "," + g + "," + b + ")";
  bar.fillRect(x, 0, 1, 12);
}
document.getElementById("legend-max").textContent = String(data.attnLim) + " (attn-lim)";
text.addEventListener("mouseover", (event) => {
  const i = event.target.dataset && event.target.dataset.i;
  if (i === undefined) return;
  const layer = Number(select.value), piece = data.pieces[Number(i)], t = piece[1] + piece[2] - 1;
  const l = data.layers[layer], age = data.tokens - 1 - t;
  info.textContent = JSON.stringify(piece[0]) + " token " + t + ", layer " + (layer + 1) + ": span " + l.spans[t] + ", seen up to " + l.reach[t] + " steps later; age at the end " + age + (age <= l.reach[t] ? " (still kept)" : " (expired)") + "; the layer held " + l.kept[t] + " memories at this step";
});
select.addEventListener("change", paint);
paint();
document.body.dataset.rendered = "true";
</script>
</body>
</html>
`;
}
