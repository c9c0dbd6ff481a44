// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, ...,
// "__metadata__": {string: string}}, then the tensor bytes (offsets relative to their start).
// Parsing validates everything before allocating anything large: header size, JSON shape,
// dtypes, shapes, offsets inside the file, sizes that match the shapes, no overlaps.
// No node: imports here (see file.ts for reading and writing files).

export type DType = 'F32' | 'F64' | 'I32' | 'I64' | 'U8';
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface StoredTensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

const ITEM_SIZE: Record<DType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1 };
/** A header larger than this is refused: real headers are a few hundred bytes per tensor. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function fail(where: string, message: string): never {
  throw new SafetensorsError(`${where}: ${message}`);
}

function isDType(x: unknown): x is DType {
  return typeof x === 'string' && Object.hasOwn(ITEM_SIZE, x);
}

/** Parses a whole safetensors file held in memory. `where` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, where = 'safetensors'): SafetensorsFile {
  if (bytes.length < 8) fail(where, `the file has ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) fail(where, `the header claims ${headerLength} bytes but only ${bytes.length - 8} follow`);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(where, `the header claims ${headerLength} bytes, over the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(where, `the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(where, 'the header is not a JSON object');
  const dataStart = 8 + n, dataLength = bytes.length - dataStart;

  const metadata: Record<string, string> = {};
  const entries: [string, DType, number[], number, number][] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(where, `__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const at = `${where}: tensor "${name}"`;
    if (typeof value !== 'object' || value === null) fail(at, 'its entry is not an object');
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (!isDType(dtype)) fail(at, `unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(ITEM_SIZE).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(at, `bad shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(at, `bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataLength) fail(at, `data_offsets [${begin}, ${end}] lie outside the ${dataLength} data bytes`);
    // Compare sizes in floating point first: a product of absurd dims must not be trusted as an integer.
    const elements = (shape as number[]).reduce((a, d) => a * d, 1);
    if (elements * ITEM_SIZE[dtype] !== end - begin) {
      fail(at, `shape ${JSON.stringify(shape)} of ${dtype} needs ${elements * ITEM_SIZE[dtype]} bytes, but data_offsets span ${end - begin}`);
    }
    entries.push([name, dtype, shape as number[], begin, end]);
  }
  const sorted = [...entries].sort((a, b) => a[3] - b[3]);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i][3] < sorted[i - 1][4]) fail(where, `tensors "${sorted[i - 1][0]}" and "${sorted[i][0]}" overlap`);
  }

  const tensors = new Map<string, StoredTensor>();
  for (const [name, dtype, shape, begin, end] of entries) {
    // Copy into a fresh, aligned buffer: the data section need not be aligned. (Not slice():
    // on a Node Buffer it returns a view, not a copy.)
    const copy = new Uint8Array(end - begin);
    copy.set(bytes.subarray(dataStart + begin, dataStart + end));
    const raw = copy.buffer;
    const data =
      dtype === 'F32' ? new Float32Array(raw)
      : dtype === 'F64' ? new Float64Array(raw)
      : dtype === 'I32' ? new Int32Array(raw)
      : dtype === 'I64' ? new BigInt64Array(raw)
      : new Uint8Array(raw);
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  return 'U8';
}

/** Serialises tensors (in the order given) and string metadata into safetensors bytes. */
export function serializeSafetensors(tensors: Iterable<[string, { shape: readonly number[]; data: TensorData }]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, { shape, data }] of tensors) {
    if (name === '__metadata__' || Object.hasOwn(header, name)) throw new SafetensorsError(`serializeSafetensors: duplicate or reserved tensor name "${name}"`);
    const elements = shape.reduce((a, d) => a * d, 1);
    if (elements !== data.length) throw new SafetensorsError(`serializeSafetensors: tensor "${name}" has ${data.length} elements but shape [${shape.join(', ')}]`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: dtypeOf(data), shape: [...shape], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // keep the data section 8-byte aligned
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
