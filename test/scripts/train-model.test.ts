import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';

// The model training script (scripts/model/train.py) must not rot: a smoke run trains a few steps on
// a few generated frames, exports the SAM-contract ONNX pair, and `samstar segment` loads it.
// It needs Python 3 with PyTorch, ONNX, SciPy and Pillow (Debian: python3-torch python3-onnx
// python3-scipy python3-pil; .ci/run installs them). SAMSTAR_PYTHON names the interpreter.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function findPython(): string | undefined {
  const candidates = [process.env.SAMSTAR_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch, onnx, scipy, PIL'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

const python = findPython();
const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));
if (!python) console.warn('train-model.test: skipped, no python3 with torch, onnx, scipy and PIL (apt-get install python3-torch python3-onnx python3-scipy python3-pil)');
if (!built) console.warn('train-model.test: skipped, dist/ is not built (npm run build): the smoke run generates frames with `samstar synth`');

describe.skipIf(!python || !built)('scripts/model/train.py', () => {
  it('trains a few steps, exports an ONNX pair with the SAM contract that samstar segment loads', () => {
    const work = mkdtempSync(join(tmpdir(), 'samstar-train-model-'));
    const out = join(work, 'model');
    const run = spawnSync(python!, [join(root, 'scripts', 'model', 'train.py'), '--smoke', '--work', work, '--out', out, '--zoom', '0.6,2.0'], { encoding: 'utf8', cwd: root });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/step 3\/3 .*loss \d/);
    const record = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8')) as {
      files: Record<string, { bytes: number; sha256: string }>;
      training: { steps: number; seed: number; zoom: string };
    };
    expect(record.training.steps).toBe(3);
    expect(record.training.zoom).toBe('0.6,2.0');
    expect(record.files['encoder.onnx'].sha256).toMatch(/^[0-9a-f]{64}$/);

    const segOut = join(work, 'seg');
    const synth = runCli(['synth', '--out', join(work, 'frames'), '--frames', '1', '--width', '160', '--height', '128', '--count', '8']);
    expect(synth.status, synth.stderr).toBe(0);
    const seg = runCli([
      'segment', join(work, 'frames', 'images', 'frame-0000.png'), '--out', segOut,
      '--encoder', join(out, 'encoder.onnx'), '--decoder', join(out, 'decoder.onnx'),
      '--knobs', '{"points_per_side": 8}',
    ]);
    expect(seg.status, seg.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(segOut, 'frame-0000.json'), 'utf8')) as { model?: { encoder_sha256?: string; layout?: string } };
    expect(written.model?.encoder_sha256).toBe(record.files['encoder.onnx'].sha256);
    expect(written.model?.layout).toBe('sam-nchw/sam');

    // The detail branch (the encoder reads the 1024² frame too), started from the weights just
    // trained: the branch is the only new part, and the export keeps the contract.
    // (Same work folder: the generated frames are reused; the first run's checkpoint is read before it is replaced.)
    const out2 = join(work, 'model-detail');
    const detail = spawnSync(python!, [join(root, 'scripts', 'model', 'train.py'), '--smoke', '--work', work, '--out', out2, '--detail', '--init-from', join(work, 'checkpoint.pt')], { encoding: 'utf8', cwd: root });
    expect(detail.status, detail.stderr).toBe(0);
    expect(detail.stderr).toMatch(/its step 3\); new: detail\.0\.0\.weight/);
    const record2 = JSON.parse(readFileSync(join(out2, 'training.json'), 'utf8')) as { training: { detail: boolean; init_from_step: number | null } };
    expect(record2.training).toMatchObject({ detail: true, init_from_step: 3 });
    const seg2 = runCli([
      'segment', join(work, 'frames', 'images', 'frame-0000.png'), '--out', join(work, 'seg-detail'),
      '--encoder', join(out2, 'encoder.onnx'), '--decoder', join(out2, 'decoder.onnx'), '--knobs', '{"points_per_side": 8}',
    ]);
    expect(seg2.status, seg2.stderr).toBe(0);
  });

  it('refuses a malformed --zoom, naming it', () => {
    const run = spawnSync(python!, [join(root, 'scripts', 'model', 'train.py'), '--smoke', '--work', mkdtempSync(join(tmpdir(), 'samstar-train-zoom-')), '--zoom', '2,1'], { encoding: 'utf8', cwd: root });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/--zoom '2,1': need 0 < MIN < MAX/);
  });
});
