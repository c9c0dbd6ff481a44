// Builds the native kernels with node-gyp during `npm ci` / `npm install`. A failed build does not
// fail the install: the package then runs on its TypeScript kernels and says so when loaded.
// EXPIRE_SPAN_REQUIRE_NATIVE=1 turns a failed build into a failed install (CI uses it).
import { spawnSync } from 'node:child_process';

// npm sets npm_config_node_gyp to its bundled node-gyp in every script it runs.
const gyp = process.env.npm_config_node_gyp;
if (!gyp) {
  console.error('expire-span: run this through npm (npm run build:native), which provides node-gyp.');
  process.exit(1);
}
const result = spawnSync(process.execPath, [gyp, 'rebuild'], { stdio: 'inherit' });
if (result.status !== 0) {
  const message =
    'expire-span: building the native kernels failed; the slower TypeScript kernels will be used.\n' +
    '  To fix: install a C++17 compiler, make and python3 (and optionally libopenblas-dev), then run `npm rebuild expire-span`.';
  if (process.env.EXPIRE_SPAN_REQUIRE_NATIVE === '1') {
    console.error(message.replace('will be used', 'are not allowed here (EXPIRE_SPAN_REQUIRE_NATIVE=1)'));
    process.exit(1);
  }
  console.warn(message);
}
