// Prints the CBLAS this machine can build against, for binding.gyp: "openblas", "accelerate" or
// "none". EXPIRE_SPAN_BLAS=none forces the built-in matrix kernel.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function detect() {
  const forced = process.env.EXPIRE_SPAN_BLAS;
  if (forced === 'none' || forced === '0') return 'none';
  if (process.platform === 'darwin') return 'accelerate';
  if (process.platform === 'win32') return 'none';
  // Compile and link a one-line program: the header and the library must both be there.
  const dir = mkdtempSync(join(tmpdir(), 'expire-span-blas-'));
  try {
    const src = join(dir, 'probe.cc');
    writeFileSync(src, [
      '#include <cblas.h>',
      'int main() { float a = 1, b = 1, c = 0;',
      '  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.f, &a, 1, &b, 1, 0.f, &c, 1);',
      '  return c == 1.f ? 0 : 1; }',
    ].join('\n'));
    execFileSync(process.env.CXX || 'c++', [src, '-o', join(dir, 'probe'), '-lopenblas'], {
      stdio: 'ignore',
      timeout: 60_000,
    });
    return 'openblas';
  } catch {
    return 'none';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(detect());
