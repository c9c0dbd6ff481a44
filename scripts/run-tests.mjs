// `npm test`: runs the whole suite twice, on the native kernels and then with the TypeScript
// kernels forced (EXPIRE_SPAN_KERNELS=typescript), and ends with one line of totals.
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern=gemm).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join('dist', 'test');
const files = readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(dir, f));
if (files.length === 0) {
  console.error(`no test files in ${dir}: run \`npm run build\` first`);
  process.exit(1);
}

function run(label, env) {
  return new Promise((resolve) => {
    console.log(`\n=== tests on the ${label} kernels ===`);
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...process.argv.slice(2), ...files], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk).slice(-4000);
    });
    child.on('close', (code) => {
      const count = (name) => Number(tail.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
      resolve({ code, pass: count('pass'), fail: count('fail'), skipped: count('skipped') });
    });
  });
}

const results = [await run('native', { EXPIRE_SPAN_KERNELS: 'native' }), await run('TypeScript', { EXPIRE_SPAN_KERNELS: 'typescript' })];
const pass = results.reduce((s, r) => s + r.pass, 0);
const fail = results.reduce((s, r) => s + r.fail, 0) + results.filter((r) => r.code !== 0 && r.fail === 0).length;
const skipped = results.reduce((s, r) => s + r.skipped, 0);
console.log(`\n${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
