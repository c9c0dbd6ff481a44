// Object collision (the paper's §4.3 task): particles move on a grid and carry colours that
// change now and then. Every frame lists each particle's row, column and colour, then asks about
// two colours; the target (at the frame's last token) is the quadrant (1-4) where particles of
// those two colours last met on the same cell. Pairs that never met are not scored. Collisions
// are rare, so answering needs memory of the right few frames among thousands.
//
// Frame of P particles (3P + 2 tokens):  r_i c_j k_c  (per particle)  q_a q_b
// With cells=1 (2P + 2 tokens):            s_i_j k_c   (per particle)  q_a q_b
// (one token per cell: the same information, but a collision is then two equal tokens in a
// frame, which a small model finds far sooner than two equal row-and-column pairs).
// Dynamics: positions in [0, grid-1] move by a velocity drawn from N(0, speed^2) per axis; a step
// that would leave (0, grid-1) redraws the velocity until it does not. Each particle changes to a
// uniformly drawn colour with probability `change` per frame. With probability `easy` the query
// asks about the pair that met most recently, otherwise about two uniformly drawn colours. Pairs
// are unordered: (a, b) and (b, a) ask the same question.
import type { Random } from '../../tensor/random.js';
import { option, StreamWriter, type Task } from './task.js';

/** Tries to draw a velocity that stays on the grid before the particle stands still for a frame. */
const MAX_REDRAWS = 1000;

export const objectCollisionTask: Task = {
  name: 'collision',
  summary: 'the quadrant where two colours of particles last collided (the paper\'s object collision)',
  metric: 'error',
  options: [
    option('particles', 2, 2, 20, 'particles on the grid'),
    option('colours', 5, 1, 40, 'colours a particle can have'),
    option('grid', 16, 2, 64, 'rows and columns of the grid'),
    option('speed', 0.5, 0.01, 8, 'standard deviation of a velocity component, cells per frame', false),
    option('change', 0.05, 0, 1, 'probability that a particle changes colour in a frame', false),
    option('easy', 0.4, 0, 1, 'probability that a query asks about the most recent collision', false),
    option('cells', 0, 0, 1, '1: each particle\'s position as one token (its cell) instead of a row and a column token'),
  ],
  check: (o) => (o.cells === 1 && o.grid * o.grid + 2 * o.colours + 4 > 256 ? `cells=1 needs grid x grid + 2 x colours + 4 tokens, at most 256; got grid ${o.grid} and ${o.colours} colours` : undefined),
  tokens: (o) => [
    ...(o.cells === 1
      ? Array.from({ length: o.grid * o.grid }, (_, i) => `s${Math.floor(i / o.grid)}_${i % o.grid}`)
      : [...Array.from({ length: o.grid }, (_, i) => `r${i}`), ...Array.from({ length: o.grid }, (_, i) => `c${i}`)]),
    ...Array.from({ length: o.colours }, (_, i) => `k${i}`),
    ...Array.from({ length: o.colours }, (_, i) => `q${i}`),
    'quadrant1', 'quadrant2', 'quadrant3', 'quadrant4',
  ],
  generate(o, random, length) {
    const P = o.particles, C = o.colours, G = o.grid;
    const positions = o.cells === 1 ? G * G : 2 * G;
    const [colour0, query0, quadrant1] = [positions, positions + C, positions + 2 * C];
    // A particle's position tokens: its cell, or its row and its column.
    const place = o.cells === 1 ? (r: number, c: number) => [r * G + c] : (r: number, c: number) => [r, G + c];
    const x = Float64Array.from({ length: P }, () => random.next() * (G - 1));
    const y = Float64Array.from({ length: P }, () => random.next() * (G - 1));
    const vx = Float64Array.from({ length: P }, () => random.normal() * o.speed);
    const vy = Float64Array.from({ length: P }, () => random.normal() * o.speed);
    const colour = Int32Array.from({ length: P }, () => random.nextUint32() % C);
    // Quadrant (1-4) of the last collision of every colour pair (0: never), and the latest pair.
    const lastMet = new Int32Array(C * C);
    let recentA = -1, recentB = -1;
    const pair = (a: number, b: number) => Math.min(a, b) * C + Math.max(a, b);
    const inside = (z: number) => z > 0 && z < G - 1;

    const out = new StreamWriter(length);
    while (!out.full) {
      for (let p = 0; p < P; p++) {
        move(random, p, x, y, vx, vy, o.speed, inside);
        if (random.next() < o.change) colour[p] = random.nextUint32() % C;
      }
      const row = (p: number) => Math.round(x[p]), col = (p: number) => Math.round(y[p]);
      for (let p = 0; p < P; p++) {
        for (let q = p + 1; q < P; q++) {
          if (row(p) !== row(q) || col(p) !== col(q)) continue;
          lastMet[pair(colour[p], colour[q])] = 1 + 2 * Number(2 * row(p) + 1 > G) + Number(2 * col(p) + 1 > G);
          [recentA, recentB] = [colour[p], colour[q]];
        }
      }
      const easy = recentA >= 0 && random.next() < o.easy;
      const a = easy ? recentA : random.nextUint32() % C, b = easy ? recentB : random.nextUint32() % C;
      const quadrant = lastMet[pair(a, b)];
      for (let p = 0; p < P; p++) [...place(row(p), col(p)), colour0 + colour[p]].forEach((token) => out.put(token));
      out.put(query0 + a);
      out.put(query0 + b, quadrant > 0 ? quadrant1 + quadrant - 1 : -1);
    }
    return out.finish();
  },
};

/** Moves particle p one frame, redrawing its velocity while the step would leave the grid. */
function move(random: Random, p: number, x: Float64Array, y: Float64Array, vx: Float64Array, vy: Float64Array, speed: number, inside: (z: number) => boolean): void {
  for (let tries = 0; !(inside(x[p] + vx[p]) && inside(y[p] + vy[p])); tries++) {
    if (tries === MAX_REDRAWS) return;
    vx[p] = random.normal() * speed;
    vy[p] = random.normal() * speed;
  }
  x[p] += vx[p];
  y[p] += vy[p];
}
