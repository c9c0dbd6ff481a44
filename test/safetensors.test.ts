// safetensors reading and writing: round trips, and hostile files refused with one clear error.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSafetensorsFile, writeFileAtomic, writeSafetensorsFile } from '../src/io/file.js';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '../src/io/safetensors.js';

/** A file with the given header object and data bytes. */
function file(header: unknown, data = new Uint8Array(0), headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const refused = (bytes: Uint8Array, pattern: RegExp) =>
  assert.throws(() => parseSafetensors(bytes, 'f'), (e: Error) => e instanceof SafetensorsError && pattern.test(e.message));

describe('safetensors', () => {
  it('round-trips tensors of every supported dtype, with metadata, in order', () => {
    const tensors: [string, { shape: number[]; data: Float32Array | Int32Array | BigInt64Array | Float64Array | Uint8Array }][] = [
      ['a.weight', { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, -6.5) }],
      ['ids', { shape: [3], data: BigInt64Array.of(1n, -2n, 3n) }],
      ['i', { shape: [1], data: Int32Array.of(7) }],
      ['d', { shape: [2], data: Float64Array.of(0.1, 0.2) }],
      ['u', { shape: [3], data: Uint8Array.of(1, 2, 3) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ];
    const bytes = serializeSafetensors(tensors, { info: '{"x":1}' });
    assert.equal(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8, 0, 'the data section starts 8-byte aligned');
    const back = parseSafetensors(bytes);
    assert.deepEqual(back.metadata, { info: '{"x":1}' });
    assert.deepEqual([...back.tensors.keys()], tensors.map(([n]) => n));
    for (const [name, t] of tensors) {
      assert.deepEqual(back.tensors.get(name)!.shape, t.shape);
      assert.deepEqual(back.tensors.get(name)!.data, t.data);
    }
  });

  it('refuses hostile or broken files with a message naming the problem', () => {
    refused(new Uint8Array(5), /fewer than the 8-byte header length/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
    refused(huge, /the header claims 4611686018427387904 bytes but only 8 follow/);
    refused(file(null, undefined, '{not json'), /the header is not valid UTF-8 JSON/);
    refused(file([1, 2]), /the header is not a JSON object/);
    refused(file({ t: { dtype: 'Q8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /tensor "t": unsupported dtype "Q8"/);
    refused(file({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor "t": bad shape \[-1\]/);
    refused(file({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)), /tensor "t": data_offsets \[0, 8\] lie outside the 4 data bytes/);
    refused(file({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor "t": shape \[2\] of F32 needs 8 bytes, but data_offsets span 4/);
    refused(file({ t: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, new Uint8Array(4)), /needs .* bytes, but data_offsets span 4/);
    refused(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /tensors "a" and "b" overlap/);
    refused(file({ __metadata__: { x: 1 } }), /__metadata__.x is not a string/);
    refused(file({ t: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4)), /bad data_offsets \[0\]/);
  });

  it('writes files atomically and reads them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    try {
      const path = join(dir, 'model.safetensors');
      writeSafetensorsFile(path, [['w', { shape: [2], data: Float32Array.of(1, 2) }]]);
      writeSafetensorsFile(path, [['w', { shape: [3], data: Float32Array.of(3, 4, 5) }]]);
      assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'no temporary file is left behind');
      assert.deepEqual(readSafetensorsFile(path).tensors.get('w')!.data, Float32Array.of(3, 4, 5));
      assert.ok(readFileSync(path).length > 0);
      assert.throws(() => readSafetensorsFile(join(dir, 'missing.safetensors')), /cannot read .*missing\.safetensors: ENOENT/);
      // A write that fails leaves the old file whole and says so; into a missing folder, nothing.
      const before = readFileSync(path);
      mkdirSync(join(dir, `.model.safetensors.${process.pid}.tmp`));
      assert.throws(() => writeSafetensorsFile(path, [['w', { shape: [1], data: Float32Array.of(9) }]]), /could not write .*model\.safetensors \(EISDIR\); its previous content is intact/);
      assert.ok(readFileSync(path).equals(before));
      assert.throws(() => writeFileAtomic(join(dir, 'no', 'such', 'folder.json'), '{}'), /could not write .*folder\.json \(ENOENT\); nothing was written/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
