// Files: atomic writes (temp file in the same folder, fsync, rename) and checked reads.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseSafetensors, serializeSafetensors, type SafetensorsFile, type TensorData } from './safetensors.js';

/**
 * Writes bytes so that `path` holds either its old content or all of the new, never a mix. A
 * failure (full disk, unwritable folder) leaves the old content and says so.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  let fd: number | null = null, created = false;
  try {
    fd = openSync(temp, 'w');
    created = true;
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, path);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    if (created) rmSync(temp, { force: true });
    const { code, message } = e as NodeJS.ErrnoException;
    throw new Error(`could not write ${path} (${code ?? message}); ${existsSync(path) ? 'its previous content is intact' : 'nothing was written'}`);
  }
}

export function readSafetensorsFile(path: string): SafetensorsFile {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (size > 2 ** 31) throw new Error(`${path}: ${size} bytes is larger than this reader supports (2 GiB)`);
  return parseSafetensors(readFileSync(path), path);
}

export function writeSafetensorsFile(path: string, tensors: Iterable<[string, { shape: readonly number[]; data: TensorData }]>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
