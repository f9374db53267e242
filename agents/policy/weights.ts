/**
 * Policy weights on disk: a folder with
 *
 *   weights.json   format, version, the topology and anything else the caller
 *                  puts in `meta` (policy config, normalisation statistics,
 *                  agent kind and options), and an index of the tensors:
 *                  name, shape, byte offset, length
 *   weights.bin    the tensors' values, little-endian, concatenated: float32,
 *                  except entries marked `dtype: "float64"`
 *
 * float64 entries hold training state that must come back bit for bit (a
 * saved agent's Adam moments, which are float64 in JS); the network itself is
 * float32. They are an optional addition within version 1: a reader ignores
 * tensors it does not ask for by name, so deployment (GaussianPolicy.load)
 * skips them, and even a reader predating the field only misreads tensors it
 * never uses. Files without float64 entries are byte-for-byte what earlier
 * versions wrote.
 *
 * Each file is written atomically (temporary sibling, then rename). The pair is
 * made consistent by order and by a checksum: weights.bin is written first and
 * weights.json records its byte length and sha256, so a crash between the two
 * renames leaves a folder that load() rejects with a clear message instead of
 * a policy with mismatched weights. The lead's policy artefact (`policy.json`)
 * lives in the same folder and references these two files.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SamstarError } from '../../src/util/errors.js';
import { writeFileAtomic } from '../../src/util/fs.js';

export const WEIGHTS_JSON = 'weights.json';
export const WEIGHTS_BIN = 'weights.bin';
export const WEIGHTS_FORMAT = 'samstar-policy-weights';
export const WEIGHTS_VERSION = 1;

export interface NamedArray {
  readonly name: string;
  readonly shape: readonly number[];
  /** A Float64Array is written (and read back) as a float64 entry, anything else as float32. */
  readonly data: Float32Array | Float64Array;
}

export interface TensorEntry {
  readonly name: string;
  readonly shape: number[];
  /** Byte offset into weights.bin. */
  readonly offset: number;
  /** Number of values. */
  readonly length: number;
  /** "float64" for 8-byte values; absent: the manifest's dtype (float32). */
  readonly dtype?: 'float64';
}

export interface WeightsManifest<M = Record<string, unknown>> {
  readonly format: typeof WEIGHTS_FORMAT;
  readonly version: number;
  readonly dtype: 'float32';
  readonly endianness: 'little';
  readonly weightsFile: string;
  readonly byteLength: number;
  readonly sha256: string;
  readonly tensors: TensorEntry[];
  readonly meta: M;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Write `tensors` (+ `meta`) into `dir`: weights.bin first, then weights.json, each atomically. */
export async function writeWeights<M>(dir: string, tensors: readonly NamedArray[], meta: M): Promise<WeightsManifest<M>> {
  const names = new Set<string>();
  let total = 0;
  const width = (t: NamedArray) => (t.data instanceof Float64Array ? 8 : 4);
  for (const t of tensors) {
    if (names.has(t.name)) throw new SamstarError('ARGUMENT_INVALID', `weights: tensor name "${t.name}" appears twice`);
    names.add(t.name);
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length) {
      throw new SamstarError('ARGUMENT_INVALID', `weights: tensor "${t.name}" has ${t.data.length} values, shape [${t.shape.join(', ')}] needs ${expected}`);
    }
    total += width(t) * t.data.length;
  }
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (width(t) === 8) {
      entries.push({ name: t.name, shape: [...t.shape], offset, length: t.data.length, dtype: 'float64' });
      for (let i = 0; i < t.data.length; i++, offset += 8) view.setFloat64(offset, t.data[i], true);
    } else {
      entries.push({ name: t.name, shape: [...t.shape], offset, length: t.data.length });
      for (let i = 0; i < t.data.length; i++, offset += 4) view.setFloat32(offset, t.data[i], true);
    }
  }
  const manifest: WeightsManifest<M> = {
    format: WEIGHTS_FORMAT,
    version: WEIGHTS_VERSION,
    dtype: 'float32',
    endianness: 'little',
    weightsFile: WEIGHTS_BIN,
    byteLength: bytes.length,
    sha256: sha256(bytes),
    tensors: entries,
    meta,
  };
  try {
    await writeFileAtomic(join(dir, WEIGHTS_BIN), bytes);
    await writeFileAtomic(join(dir, WEIGHTS_JSON), JSON.stringify(manifest, null, 2) + '\n');
  } catch (e) {
    throw new SamstarError('IO_ERROR', `cannot write policy weights into ${dir}: ${(e as Error).message}`, { cause: e, hint: 'check that the folder is writable and the disk is not full' });
  }
  return manifest;
}

export interface LoadedWeights<M> {
  readonly manifest: WeightsManifest<M>;
  readonly tensors: Map<string, NamedArray>;
}

/** Read and check a folder written by writeWeights(). */
export async function readWeights<M = Record<string, unknown>>(dir: string): Promise<LoadedWeights<M>> {
  const jsonPath = join(dir, WEIGHTS_JSON);
  const invalid = (what: string, hint = 'save the policy again'): never => {
    throw new SamstarError('MODEL_INVALID', `${jsonPath}: ${what}`, { hint });
  };
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (e) {
    throw new SamstarError('MODEL_NOT_FOUND', `no policy weights at ${jsonPath}`, { cause: e, hint: 'pass the folder that `save(dir)` (or `samstar train`) wrote' });
  }
  let manifest: WeightsManifest<M>;
  try {
    manifest = JSON.parse(text) as WeightsManifest<M>;
  } catch (e) {
    return invalid(`not valid JSON (${(e as Error).message})`);
  }
  if (manifest?.format !== WEIGHTS_FORMAT) invalid(`format is ${JSON.stringify(manifest?.format)}, expected "${WEIGHTS_FORMAT}"`);
  if (manifest.version !== WEIGHTS_VERSION) invalid(`version ${manifest.version} is not supported (this samstar reads version ${WEIGHTS_VERSION})`, 'upgrade samstar or retrain the policy');
  if (manifest.dtype !== 'float32' || manifest.endianness !== 'little') invalid(`dtype ${manifest.dtype}/${manifest.endianness} is not float32/little`);
  if (!Array.isArray(manifest.tensors)) invalid('tensors is missing');
  if (typeof manifest.weightsFile !== 'string' || manifest.weightsFile.includes('/') || manifest.weightsFile.includes('\\')) invalid('weightsFile must be a file name in the same folder');
  const binPath = join(dir, manifest.weightsFile);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(binPath));
  } catch (e) {
    throw new SamstarError('MODEL_NOT_FOUND', `policy weights ${binPath} are missing (referenced by ${jsonPath})`, { cause: e, hint: 'copy the whole policy folder, not only its JSON files' });
  }
  if (bytes.length !== manifest.byteLength || sha256(bytes) !== manifest.sha256) {
    invalid(`${manifest.weightsFile} does not match its checksum (${bytes.length} bytes, expected ${manifest.byteLength})`, 'the folder was written partly (interrupted save) or edited; save the policy again');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors = new Map<string, NamedArray>();
  for (const entry of manifest.tensors) {
    const count = Array.isArray(entry.shape) ? entry.shape.reduce((a, b) => a * b, 1) : NaN;
    if (entry.dtype !== undefined && entry.dtype !== 'float64') invalid(`tensor "${entry.name}" has dtype ${JSON.stringify(entry.dtype)} (only "float64" may be given; absent means float32)`);
    const size = entry.dtype === 'float64' ? 8 : 4;
    if (typeof entry.name !== 'string' || count !== entry.length || !Number.isInteger(entry.offset) || entry.offset < 0 || entry.offset + size * entry.length > bytes.length) {
      invalid(`tensor entry ${JSON.stringify(entry)} is inconsistent`);
    }
    let data: Float32Array | Float64Array;
    if (size === 8) {
      data = new Float64Array(entry.length);
      for (let i = 0; i < entry.length; i++) data[i] = view.getFloat64(entry.offset + 8 * i, true);
    } else {
      data = new Float32Array(entry.length);
      for (let i = 0; i < entry.length; i++) data[i] = view.getFloat32(entry.offset + 4 * i, true);
    }
    tensors.set(entry.name, { name: entry.name, shape: entry.shape, data });
  }
  return { manifest, tensors };
}
