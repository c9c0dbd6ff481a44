// A progress bar for one epoch (tokens/s, ETA, running loss) on a terminal; nothing elsewhere
// (logs and CI get the per-epoch lines only).
import cliProgress from 'cli-progress';

export class EpochProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly started = process.hrtime.bigint();

  constructor(label: string, total: number) {
    if (!process.stderr.isTTY) {
      this.bar = null;
      return;
    }
    this.bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} | {speed} tok/s | ETA {eta_formatted} | {metric}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { speed: '-', metric: '' });
  }

  update(done: number, tokens: number, metric: string): void {
    if (!this.bar) return;
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    this.bar.update(done, { speed: Math.round(tokens / Math.max(seconds, 1e-9)).toLocaleString('en-US'), metric });
  }

  stop(): void {
    this.bar?.stop();
  }
}
