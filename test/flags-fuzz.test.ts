// Every numeric flag of `train` with a missing, non-numeric, negative, fractional or absurd value:
// refused with an error that names the flag, or (where the value is legal) a config whose
// training memory the command checks before any work. Run in-process, as the command does it.
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { it } from 'node:test';
import { makeTrainOptions, MODEL_FLAGS, parseTrainFlags, TRAIN_FLAGS } from '../src/cli/flags.js';
import { makeConfig, trainingBytes } from '../src/model/config.js';

const BAD = ['', 'abc', 'NaN', 'Infinity', '-1', '0', '0.5', '1e30', '-1e30'];

it('refuses bad values of every numeric train flag by name', () => {
  const numeric = Object.entries({ ...MODEL_FLAGS, ...TRAIN_FLAGS }).filter(([, [, kind]]) => kind === 'int' || kind === 'real');
  assert.ok(numeric.length > 25, `${numeric.length} numeric flags`);
  const accepted: string[] = [];
  for (const [flag, [, kind]] of numeric) {
    for (const value of BAD) {
      const argv = ['--data', 'x', '--expire-span', `--${flag}=${value}`];
      try {
        const parsed = parseTrainFlags(argv);
        const options = makeTrainOptions(parsed.train);
        const config = makeConfig({ ...parsed.model, vocabSize: 256 });
        // What the command does next: refuse a config that would not fit.
        if (trainingBytes(config, Math.max(options.batchSz, options.testBatchSz)) > totalmem()) throw new Error(`--${flag}: needs more memory than the machine has`);
        accepted.push(`--${flag}=${value}`);
        // A legal value is a finite number in range.
        assert.ok(Number.isFinite(Number(value)), `--${flag}=${value} accepted`);
        if (kind === 'int') assert.ok(Number.isInteger(Number(value)), `--${flag}=${value} accepted as an integer`);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        assert.ok((e as Error).message.includes(`--${flag}`), `--${flag}=${value}: "${(e as Error).message}" does not name the flag`);
      }
    }
  }
  if (process.env.EXPIRE_SPAN_FLAGS_REPORT) console.log(accepted.join(' '));
  // Absurd values never get through.
  assert.deepEqual(accepted.filter((a) => a.endsWith('=1e30')), []);
});
