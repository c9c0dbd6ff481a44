// Drawing the next token from a row of log-probabilities: temperature 0 takes the most likely
// token; otherwise p ~ exp(logprob / temperature) over the k most likely tokens (all when k = 0).

export interface SamplingOptions {
  temperature: number;
  topK: number;
}

/** logprobs: [vocab]; uniform: a number in [0, 1). */
export function sampleToken(logprobs: Float32Array, { temperature, topK }: SamplingOptions, uniform: number): number {
  const vocab = logprobs.length;
  let order = Array.from({ length: vocab }, (_, i) => i);
  if (temperature === 0 || topK === 1) return order.reduce((best, i) => (logprobs[i] > logprobs[best] ? i : best), 0);
  if (topK > 0 && topK < vocab) order = order.sort((a, b) => logprobs[b] - logprobs[a]).slice(0, topK);
  // Scaled against the largest so that exp never overflows.
  const top = Math.max(...order.map((i) => logprobs[i]));
  const weights = order.map((i) => Math.exp((logprobs[i] - top) / temperature));
  let r = uniform * weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < order.length; j++) {
    r -= weights[j];
    if (r < 0) return order[j];
  }
  return order[order.length - 1];
}
