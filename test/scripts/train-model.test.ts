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

/**
 * Python lines that make \`sample\`: a size² image of bright disks on a grid (each its own label),
 * the centres \`first\` + k·\`step\` (y, x), moved down by \`shift\` (an expression of cx) to vary
 * their sub-pixel position. Needs numpy as np and the data module imported.
 */
function diskSample(o: { size: number; first: [number, number]; step: [number, number]; radius: number; shift?: string }): string {
  return `labels = np.zeros((${o.size}, ${o.size}), np.int32)
yy, xx = np.mgrid[0:${o.size}, 0:${o.size}]
n = 0
for cy in range(${o.first[0]}, ${o.size}, ${o.step[0]}):
    for cx in range(${o.first[1]}, ${o.size}, ${o.step[1]}):
        n += 1
        labels[(yy - cy - (${o.shift ?? '0'})) ** 2 + (xx - cx) ** 2 <= ${o.radius * o.radius}] = n
sample = data.Sample('disks', 'test', np.where(labels > 0, 200.0, 50.0).astype(np.float32), labels)`;
}

const python = findPython();
const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));
if (!python) console.warn('train-model.test: skipped, no python3 with torch, onnx, scipy and PIL (apt-get install python3-torch python3-onnx python3-scipy python3-pil)');
if (!built) console.warn('train-model.test: skipped, dist/ is not built (npm run build): the smoke run generates frames with `samstar synth`');

describe.skipIf(!python || !built)('scripts/model/train.py', () => {
  it('trains a few steps, exports an ONNX pair with the SAM contract that samstar segment loads', () => {
    const work = mkdtempSync(join(tmpdir(), 'samstar-train-model-'));
    const out = join(work, 'model');
    const run = spawnSync(python!, [join(root, 'scripts', 'model', 'train.py'), '--smoke', '--work', work, '--out', out, '--zoom', '0.6,2.0', '--small-objects', '0.5', '--dense-images', '0.5'], { encoding: 'utf8', cwd: root });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/step 3\/3 .*loss \d/);
    const record = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8')) as {
      files: Record<string, { bytes: number; sha256: string }>;
      training: { steps: number; seed: number; zoom: string; small_objects: number; dense_images: number };
    };
    expect(record.training.steps).toBe(3);
    expect(record.training.zoom).toBe('0.6,2.0');
    expect(record.training.small_objects).toBe(0.5);
    expect(record.training.dense_images).toBe(0.5);
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

    // --export-only records the checkpoint's run, not its own command line (which names no settings).
    const reexported = join(work, 'model-again');
    const again = spawnSync(python!, [join(root, 'scripts', 'model', 'train.py'), '--export-only', '--work', work, '--out', reexported], { encoding: 'utf8', cwd: root });
    expect(again.status, again.stderr).toBe(0);
    const record3 = JSON.parse(readFileSync(join(reexported, 'training.json'), 'utf8')) as typeof record;
    expect(record3.training).toMatchObject({ steps: 3, zoom: '0.6,2.0', small_objects: 0.5, dense_images: 0.5 });
    expect(record3.files['encoder.onnx'].sha256).toBe(record.files['encoder.onnx'].sha256);

    // Fine-tuning from an exported folder (no checkpoint), as a user would on their own labelled
    // images: the weights are read back from the ONNX files, the extra folder joins the data, and
    // the soft (coverage) targets train.
    const out4 = join(work, 'model-from-onnx');
    const fromOnnx = spawnSync(python!, [join(root, 'scripts', 'model', 'train.py'), '--smoke', '--work', join(work, 'from-onnx'), '--out', out4, '--init-from', out, '--soft-targets',
      '--extra-set', `${join(work, 'frames')}=0.5`], { encoding: 'utf8', cwd: root });
    expect(fromOnnx.status, fromOnnx.stderr).toBe(0);
    expect(fromOnnx.stderr).toMatch(/starting from the weights of .*model \(its step 3\); new: nothing/);
    expect(fromOnnx.stderr).toMatch(/step 3\/3 .*loss \d/);
    const record5 = JSON.parse(readFileSync(join(out4, 'training.json'), 'utf8')) as { training: { init_from_step: number | null; soft_targets: boolean; data: { set: string }[] } };
    expect(record5.training).toMatchObject({ init_from_step: 3, soft_targets: true });
    expect(record5.training.data[1]).toMatchObject({ set: 'extra/frames', images: 1, weight: 0.5 });

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

    // A wider encoder with more blocks at the 256² level: recorded, and resumed and exported as
    // trained whatever the later command line says (it names no architecture).
    const out3 = join(work, 'model-wide');
    const wide = spawnSync(python!, [join(root, 'scripts', 'model', 'train.py'), '--smoke', '--work', work, '--out', out3, '--widths', '24,32,64,96,128', '--stem-blocks', '2', '--no-export'], { encoding: 'utf8', cwd: root });
    expect(wide.status, wide.stderr).toBe(0);
    const base = Number(/parameters: encoder (\d+)/.exec(run.stderr)?.[1]);
    const wider = Number(/parameters: encoder (\d+)/.exec(wide.stderr)?.[1]);
    expect(wider).toBeGreaterThan(base);
    const exported = spawnSync(python!, [join(root, 'scripts', 'model', 'train.py'), '--export-only', '--work', work, '--out', out3], { encoding: 'utf8', cwd: root });
    expect(exported.status, exported.stderr).toBe(0);
    const record4 = JSON.parse(readFileSync(join(out3, 'training.json'), 'utf8')) as { training: { widths: string; stem_blocks: number } };
    expect(record4.training).toMatchObject({ widths: '24,32,64,96,128', stem_blocks: 2 });
    const seg3 = runCli([
      'segment', join(work, 'frames', 'images', 'frame-0000.png'), '--out', join(work, 'seg-wide'),
      '--encoder', join(out3, 'encoder.onnx'), '--decoder', join(out3, 'decoder.onnx'), '--knobs', '{"points_per_side": 8}',
    ]);
    expect(seg3.status, seg3.stderr).toBe(0);
  });

  it('reads an exported pair back exactly: the shipped model re-exports to the same sha256, and a wrong folder is refused, naming it', () => {
    const work = mkdtempSync(join(tmpdir(), 'samstar-onnx-weights-'));
    const script = `
import sys, json, os
sys.path.insert(0, 'scripts/model')
import net, export, onnx_weights, train
# In the architecture the shipped files' record names (with or without the detail branch, its widths).
encoder, head, _ = train.read_exported('models/learned')
print(json.dumps(export.export_model(encoder, head, sys.argv[1])['files']))
for folder in (sys.argv[1] + '/nowhere', 'models/reference'):
    try:
        onnx_weights.load_exported(folder, net.Encoder(), net.PromptHead())
        print('accepted', folder)
    except ValueError as e:
        print(e)
`;
    const run = spawnSync(python!, ['-c', script, join(work, 'again')], { encoding: 'utf8', cwd: root });
    expect(run.status, run.stderr).toBe(0);
    const [files, missing, foreign] = run.stdout.trim().split('\n');
    const shipped = JSON.parse(readFileSync(join(root, 'models', 'learned', 'training.json'), 'utf8')) as { files: unknown };
    expect(JSON.parse(files)).toEqual(shipped.files);
    expect(missing).toMatch(/nowhere\/encoder\.onnx: missing/);
    expect(foreign).toMatch(/models\/reference\/encoder\.onnx: no initializer '.*': the file was not exported from this architecture/);
  });

  it('a larger --stem-blocks started from the shipped pair computes its function exactly: only the added blocks are new, and they start as the identity', () => {
    const script = `
import sys, json, torch
sys.path.insert(0, 'scripts/model')
import net, train
encoder, _, run = train.read_exported('models/learned')
deeper = train.build_encoder(dict(train.architecture(run), stem_blocks=run.get('stem_blocks', 1) + 1))
missing, unexpected = deeper.load_state_dict(encoder.state_dict(), strict=False)
grey = torch.rand(1, 1, 64 * encoder.input_scale, 96 * encoder.input_scale, generator=torch.Generator().manual_seed(5)) * 255
encoder.eval(); deeper.eval()
with torch.no_grad():
    same = float((encoder(grey) - deeper(grey)).abs().max())
    # A trained block is not the identity: the check above could fail.
    stem_in = encoder.stem[0](grey[:, :, :64, :96])
    trained = float((encoder.stem[1](stem_in) - stem_in).abs().max())
print(json.dumps({'missing': missing, 'unexpected': unexpected, 'new_ok': all(deeper.starts_as_identity(k) for k in missing),
                  'old_refused': deeper.starts_as_identity('stem.1.body.0.0.weight'), 'same': same, 'trained': trained,
                  'params': [net.count_parameters(encoder), net.count_parameters(deeper)]}))
`;
    const run = spawnSync(python!, ['-c', script], { encoding: 'utf8', cwd: root });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { missing: string[]; unexpected: string[]; new_ok: boolean; old_refused: boolean; same: number; trained: number; params: number[] };
    expect(result.unexpected).toEqual([]);
    expect(result.missing.length).toBeGreaterThan(0);
    expect(result.missing.some((k) => k.startsWith('u0_extra.'))).toBe(true);
    expect(result.new_ok).toBe(true);
    expect(result.old_refused).toBe(false);
    expect(result.params[1]).toBeGreaterThan(result.params[0]);
    expect(result.trained).toBeGreaterThan(1e-3);
    expect(result.same).toBe(0);
  });

  it('--soft-targets: coverage targets from the file-resolution labels, same crops and prompts, closer to the labels once upsampled', () => {
    // Disks 14 px across in a 512² file: 3.5 working px at the natural scale, where a 0/1 target at
    // the working pixels' centres misses much of the outline.
    const script = `
import sys, numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, 'scripts/model')
import data
${diskSample({ size: 512, first: [13, 11], step: [23, 21], radius: 7, shift: '0.3 * (cx % 3)' })}
hard = data.Sampler([[sample]], [1.0], crop=128, zoom=(1.0, 1.0), seed=7)
soft = data.Sampler([[sample]], [1.0], crop=128, zoom=(1.0, 1.0), seed=7, soft=True)
a, b = hard.batch(2), soft.batch(2)
same = all(torch.equal(a[k], b[k]) for k in ('grey', 'cx', 'cy', 'box', 'kind', 'fg'))
t = b['targets']
fractional = float(((t > 0.01) & (t < 0.99)).float().mean() / (t > 0.01).float().mean())
agree = float(((t > 0.5) == (a['targets'] > 0)).float().mean())
obj_is_token0 = bool(torch.equal(b['object'], t[:, :, 0]))
# The whole foreground of one crop, as each kind of target, upsampled to the file's pixels and cut at 0.5.
grey, working, file_labels = data.Sampler([[sample]], [1.0], crop=128, zoom=(1.0, 1.0), seed=7).crop_sample()
crop, oh, ow = file_labels
ids = np.unique(crop[crop > 0])
cover = soft.coverage(file_labels, [ids])[0, :oh, :ow]
def iou_at_file(target):
    up = F.interpolate(torch.from_numpy(np.ascontiguousarray(target, np.float32))[None, None] - 0.5, size=crop.shape, mode='bilinear', align_corners=False)[0, 0].numpy() > 0
    truth = crop > 0
    return (up & truth).sum() / (up | truth).sum()
print(same, round(fractional, 3), round(agree, 4), obj_is_token0, round(iou_at_file((working[:oh, :ow] > 0)), 3), round(iou_at_file(cover), 3))
`;
    const run = spawnSync(python!, ['-c', script], { encoding: 'utf8', cwd: root });
    expect(run.status, run.stderr).toBe(0);
    const [same, fractional, agree, objIsToken0, hardIou, softIou] = run.stdout.trim().split(' ');
    expect(same).toBe('True'); // no random number is drawn for the targets
    expect(Number(fractional)).toBeGreaterThan(0.2); // outlines are fractions, not 0/1
    expect(Number(agree)).toBeGreaterThan(0.98); // and cut at 0.5 they mostly agree with the 0/1 targets
    expect(objIsToken0).toBe('True');
    expect(Number(softIou)).toBeGreaterThan(0.95);
    expect(Number(softIou)).toBeGreaterThan(Number(hardIou) + 0.05);
  });

  it('--small-objects zooms crops so that the median object is 3-10 working px across, whatever --zoom says', () => {
    // Disks 24 px across in a 1024² image: 6 working px at the natural scale, 9-15 at a zoom of 1.5-2.5.
    const script = `
import sys, numpy as np
sys.path.insert(0, 'scripts/model')
import data
${diskSample({ size: 1024, first: [20, 20], step: [40, 40], radius: 12 })}
for small in (0.0, 1.0):
    sampler = data.Sampler([[sample]], [1.0], crop=128, zoom=(1.5, 2.5), seed=3, small=small)
    sizes = [data.median_object_diameter(sampler.crop_sample()[1]) for _ in range(40)]
    print(small, round(min(sizes), 2), round(max(sizes), 2), round(float(np.median(sizes)), 2))
`;
    const run = spawnSync(python!, ['-c', script], { encoding: 'utf8', cwd: root });
    expect(run.status, run.stderr).toBe(0);
    const [plain, small] = run.stdout.trim().split('\n').map((line) => line.split(' ').map(Number));
    expect(plain[3]).toBeGreaterThan(9); // --zoom alone: 9-15 px
    expect(small[3]).toBeLessThan(8);
    expect(small[1]).toBeGreaterThanOrEqual(2.5);
    expect(small[2]).toBeLessThanOrEqual(11);
  });

  it('--dense-images draws crowded images in proportion to their object count, and leaves the random stream alone when 0', () => {
    // One image holds a single object in a corner, the other 121 all over: uniformly each
    // gives half the crops; by count the crowded one gives 99 %.
    const script = `
import sys, numpy as np
sys.path.insert(0, 'scripts/model')
import data
one = np.zeros((256, 256), np.int32)
one[:4, :4] = 1  # in a corner, so that crops of this image hardly ever hold an object
many = np.zeros((256, 256), np.int32)
for i in range(121):
    y, x = divmod(i, 11)
    many[8 + 22 * y: 20 + 22 * y, 8 + 22 * x: 20 + 22 * x] = i + 1
samples = [data.Sample(name, 'test', np.where(l > 0, 200.0, 50.0).astype(np.float32), l) for name, l in (('one', one), ('many', many))]
def crowded_share(**kw):
    sampler = data.Sampler([samples], [1.0], crop=64, zoom=(1.0, 1.0), seed=5, **kw)
    crops = [sampler.crop_sample()[1] for _ in range(200)]
    return sum(data.object_count(c) > 0 for c in crops) / len(crops), sampler.rng.integers(1 << 30)
uniform, next_plain = crowded_share()
print(uniform, crowded_share(dense=1.0)[0], next_plain == crowded_share(dense=0.0)[1])
`;
    const run = spawnSync(python!, ['-c', script], { encoding: 'utf8', cwd: root });
    expect(run.status, run.stderr).toBe(0);
    const [uniform, byCount, sameStream] = run.stdout.trim().split(' ');
    expect(Number(uniform)).toBeGreaterThan(0.35);
    expect(Number(uniform)).toBeLessThan(0.65);
    expect(Number(byCount)).toBeGreaterThan(0.95);
    expect(sameStream).toBe('True');
  });

  it('--set-weights replaces the named sources\' shares of the crops and refuses bad entries, naming them', () => {
    const script = `
import sys, json
sys.path.insert(0, 'scripts/model')
import train
print(json.dumps(train.parse_set_weights('emps=0.45, synth=0')))
for bad in ('foo=1', 'emps=x', 'emps=-1', 'bbbc039=0,dsb2018=0,emps=0,synth=0'):
    try:
        train.parse_set_weights(bad)
        print('accepted', bad)
    except SystemExit as e:
        print(e)
`;
    const run = spawnSync(python!, ['-c', script], { encoding: 'utf8', cwd: root });
    expect(run.status, run.stderr).toBe(0);
    const [weights, ...errors] = run.stdout.trim().split('\n');
    expect(JSON.parse(weights)).toEqual({ bbbc039: 0.25, dsb2018: 0.3, emps: 0.45, synth: 0 });
    expect(errors).toEqual([
      "--set-weights: unknown source 'foo' (expected bbbc039, dsb2018, emps, synth)",
      "--set-weights: 'emps=x' needs a number after '=' (for example emps=0.3)",
      '--set-weights: emps=-1 must be 0 or more',
      '--set-weights: at least one source needs a weight above 0',
    ]);
  });

  it('refuses a malformed --zoom, naming it', () => {
    const run = spawnSync(python!, [join(root, 'scripts', 'model', 'train.py'), '--smoke', '--work', mkdtempSync(join(tmpdir(), 'samstar-train-zoom-')), '--zoom', '2,1'], { encoding: 'utf8', cwd: root });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/--zoom '2,1': need 0 < MIN < MAX/);
  });

  it('refuses malformed --widths, --stem-blocks and --extra-set, naming them', () => {
    const work = mkdtempSync(join(tmpdir(), 'samstar-train-arch-'));
    const script = `
import sys
sys.path.insert(0, 'scripts/model')
import train
for argv in (['--widths', '16,32,64'], ['--widths', '16,32,64,96,130'], ['--widths', 'a,b'], ['--stem-blocks', '0'],
             ['--extra-set', 'scripts'], ['--extra-set', 'scripts=half'], ['--extra-set', 'scripts=0'], ['--extra-set', 'no-such-folder=0.5']):
    try:
        train.main(['--smoke', '--work', sys.argv[1]] + argv)
        print('accepted', argv)
    except SystemExit as e:
        print(e)
`;
    const run = spawnSync(python!, ['-c', script, work], { encoding: 'utf8', cwd: root });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      "--widths '16,32,64': expected five positive multiples of 8, for example 16,32,64,96,128",
      "--widths '16,32,64,96,130': expected five positive multiples of 8, for example 16,32,64,96,128",
      "--widths 'a,b': expected five integers, for example 16,32,64,96,128",
      '--stem-blocks 0: expected 1 or more',
      "--extra-set 'scripts': expected FOLDER=WEIGHT, for example my-images=0.5",
      "--extra-set 'scripts=half': 'half' is not a number (the share of the crops, for example 0.5)",
      "--extra-set 'scripts=0': the weight must be above 0",
      "--extra-set 'no-such-folder=0.5': no-such-folder is not a folder (it needs images/ and labels/)",
    ]);
  });
});
