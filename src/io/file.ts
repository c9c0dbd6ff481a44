// Files: atomic writes (temp file in the same folder, fsync, rename) and checked reads.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseSafetensors, serializeSafetensors, type SafetensorsFile, type TensorData } from './safetensors.js';

/** Writes bytes so that `path` holds either its old content or all of the new, never a mix. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const fd = openSync(temp, 'w');
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(temp, path);
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
