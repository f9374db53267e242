#!/usr/bin/env python3
"""Train samstar-learned (NOT SAM) and export it with SAM 1's ONNX contract.

    python3 scripts/model/train.py --steps 12000 --minutes 100      # checkpoints to .scratch/model-train
    python3 scripts/model/train.py --steps 12000 --minutes 100 --resume   # carries on where it stopped
    python3 scripts/model/train.py --export-only --out models/learned     # export the last checkpoint
    python3 scripts/model/train.py --smoke --out /tmp/m                   # a few steps on generated frames

Entry point: `main` → `train_loop` (one step: `step_loss`). Data: `data.py`; network: `net.py`;
ONNX: `export.py`. Training data: ../shared/data/train (real images with instance labels) when
present, plus frames written by `samstar synth` (needs `npm run build`). The run is reproducible from
its seed; it checkpoints every `--checkpoint-every` steps and at the end of its time budget, so a run
longer than one sitting resumes exactly (model, optimiser, step, data RNG).
"""
import argparse
import json
import os
import subprocess
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    import onnx  # noqa: F401  (torch.onnx.export needs it)
    import scipy  # noqa: F401
    import PIL  # noqa: F401
except ImportError as missing:
    raise SystemExit(f'{missing}: training needs Python 3 with PyTorch, ONNX, SciPy and Pillow '
                     '(Debian: apt-get install python3-torch python3-onnx python3-scipy python3-pil, then run it with '
                     'that python3; or pip install torch onnx scipy pillow)')

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as data_mod  # noqa: E402
import net  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TOKEN_WEIGHTS = torch.tensor([1.0, 1.0, 0.5, 0.5])
REAL_SETS = ('bbbc039', 'dsb2018', 'emps')
# Share of the crops drawn from each source (normalised over the sources present).
DEFAULT_SET_WEIGHTS = {'bbbc039': 0.25, 'dsb2018': 0.3, 'emps': 0.3, 'synth': 0.15}
DEFAULT_WIDTHS = '16,32,64,96,128'

# Generated frames: samstar synth settings that cover what the real sets lack (dark particles,
# dense touching particles, 16-bit data, strong blur/noise, large and tiny objects).
SYNTH_SETTINGS = [
    ['--count', '60', '--diameter', '10', '--gap', '0', '--polarity', 'dark', '--shading', 'dome'],
    ['--count', '25', '--diameter', '30', '--sigma', '0.4', '--polarity', 'bright', '--bit-depth', '16', '--full-scale', '4095'],
    ['--count', '120', '--diameter', '7', '--gap', '1', '--polarity', 'bright', '--blur', '1.5', '--photons', '80'],
    ['--count', '8', '--diameter', '70', '--sigma', '0.3', '--polarity', 'dark', '--unevenness', '0.2', '--elongated', '0.5'],
    ['--count', '40', '--diameter', '16', '--gap', '0', '--contrast', '0.2', '--polarity', 'bright', '--shading', 'dome'],
    # Small nuclei packed on and beside large unlabelled bright bodies (an embryo, cells): a click on
    # a nucleus there gave the body (the DSB2018 embryo image; synth: 0.87 -> 0.64 click IoU).
    ['--count', '400', '--diameter', '7', '--sigma', '0.2', '--gap', '0', '--elongated', '0.6', '--contrast', '0.3', '--polarity', 'bright',
     '--bodies', '1', '--body-size', '0.8,1.2', '--body-contrast', '0.25', '--blur', '1.2'],
    ['--count', '120', '--diameter', '11', '--gap', '1', '--contrast', '0.25', '--polarity', 'bright', '--bodies', '3', '--body-size', '0.3,0.6',
     '--body-contrast', '0.35'],
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=os.path.join(REPO, '..', 'shared', 'data', 'train'), help='folder with bbbc039/, dsb2018/, emps/ (images/ + labels/)')
    p.add_argument('--synth-frames', type=int, default=24, help='frames per synth setting (0 = none)')
    p.add_argument('--work', default=os.path.join(REPO, '.scratch', 'model-train'), help='checkpoints and generated frames')
    p.add_argument('--out', default=os.path.join(REPO, 'models', 'learned'), help='where the ONNX pair is exported')
    p.add_argument('--steps', type=int, default=12000, help='total steps of the learning-rate schedule')
    p.add_argument('--minutes', type=float, default=0, help='stop (checkpointed) after this many minutes; 0 = no limit')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--crop', type=int, default=128)
    p.add_argument('--prompts', type=int, default=8, help='prompts per crop')
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--zoom', default='0.7,2.5', help='MIN,MAX: crop scale as a factor of the natural working scale (long side at 256), drawn log-uniformly')
    p.add_argument('--small-objects', type=float, default=0.0, help='fraction of crops zoomed so that the image\'s median object is 3-10 working px across (the rest use --zoom)')
    p.add_argument('--dense-images', type=float, default=0.0, help='fraction of crops whose image is drawn in proportion to its object count (the rest: uniformly within the set)')
    p.add_argument('--soft-targets', action='store_true', help="mask targets are each working pixel's coverage by the object in the file (0..1), not the label at its centre: masks are judged at the image's resolution")
    p.add_argument('--set-weights', default='', help='NAME=W,...: share of crops per source (bbbc039, dsb2018, emps, synth); unnamed sources keep their defaults ' + ','.join(f'{k}={v}' for k, v in DEFAULT_SET_WEIGHTS.items()))
    p.add_argument('--extra-set', action='append', default=[], metavar='FOLDER=WEIGHT',
                   help='also train on this folder of images/ + labels/ (instance label images, same file stems), with this share of the crops; repeatable. Fine-tune on your own images: --init-from models/learned --extra-set my-images=0.5')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=1, help='torch threads; 1 unless the cores are otherwise idle (oversubscribed OpenMP threads are ~5x slower)')
    p.add_argument('--checkpoint-every', type=int, default=200)
    p.add_argument('--detail', action='store_true', help='encoder with the detail branch: reads the 1024² frame, not only its 4×4 means (net.Encoder)')
    p.add_argument('--widths', default=DEFAULT_WIDTHS, help='encoder channel widths W0,...,W4 from the 256² level down to 16²')
    p.add_argument('--stem-blocks', type=int, default=1, help='blocks at the 256² level (stem, and the last up stage gets as many); more costs training time')
    p.add_argument('--init-from', default=None, help='start from the weights of this checkpoint, or of an exported model folder such as models/learned (a fresh optimiser and schedule); with --detail or a larger --stem-blocks, the new parts start at zero, so the network continues from the function it had')
    p.add_argument('--resume', action='store_true')
    p.add_argument('--export-only', action='store_true')
    p.add_argument('--no-export', action='store_true')
    p.add_argument('--smoke', action='store_true', help='a few steps on a few generated frames (tests)')
    return p.parse_args(argv)


def parse_zoom(text):
    try:
        low, high = (float(v) for v in text.split(','))
    except ValueError:
        raise SystemExit(f'--zoom {text!r}: expected MIN,MAX such as 0.7,2.5')
    if not 0 < low < high:
        raise SystemExit(f'--zoom {text!r}: need 0 < MIN < MAX')
    return low, high


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def generate_synth(work, frames, seed):
    """Writes samstar synth frames (one folder per setting) unless they are there already."""
    cli = os.path.join(REPO, 'dist', 'src', 'cli', 'main.js')
    if not os.path.exists(cli):
        raise SystemExit(f'{cli} is missing: run `npm run build` first (the generated frames come from `samstar synth`)')
    folders = []
    for i, setting in enumerate(SYNTH_SETTINGS):
        folder = os.path.join(work, 'synth', f'setting-{i}-f{frames}-s{seed}')
        if not os.path.exists(os.path.join(folder, 'truth.json')):
            cmd = ['node', cli, 'synth', '--out', folder, '--frames', str(frames), '--seed', str(seed * 100 + i), '--width', '384', '--height', '384'] + setting
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        folders.append(folder)
    return folders


def parse_widths(text):
    """'24,32,64,96,128' -> five channel widths, each a positive multiple of 8 (GroupNorm's groups)."""
    try:
        widths = tuple(int(t) for t in text.split(','))
    except ValueError:
        raise SystemExit(f"--widths '{text}': expected five integers, for example 16,32,64,96,128")
    if len(widths) != 5 or any(w <= 0 or w % 8 for w in widths):
        raise SystemExit(f"--widths '{text}': expected five positive multiples of 8, for example 16,32,64,96,128")
    return widths


def architecture(record):
    """The encoder architecture a run record names (a checkpoint's args, or the `training` of an
    exported training.json); runs from before an option have its default."""
    return {'detail': bool(record.get('detail', False)), 'widths': record.get('widths', DEFAULT_WIDTHS), 'stem_blocks': int(record.get('stem_blocks', 1))}


def build_encoder(arch):
    return net.Encoder(widths=parse_widths(arch['widths']), detail=arch['detail'], stem_blocks=arch['stem_blocks'])


def parse_set_weights(text):
    """'emps=0.45,synth=0.1' -> the default weights with those two replaced."""
    weights = dict(DEFAULT_SET_WEIGHTS)
    for part in filter(None, (t.strip() for t in text.split(','))):
        name, _, value = part.partition('=')
        if name not in weights:
            raise SystemExit(f"--set-weights: unknown source '{name}' (expected {', '.join(weights)})")
        try:
            weight = float(value)
        except ValueError:
            raise SystemExit(f"--set-weights: '{part}' needs a number after '=' (for example {name}=0.3)")
        if not weight >= 0:
            raise SystemExit(f'--set-weights: {name}={value} must be 0 or more')
        weights[name] = weight
    if sum(weights.values()) <= 0:
        raise SystemExit('--set-weights: at least one source needs a weight above 0')
    return weights


def parse_extra_sets(entries):
    """['my/images=0.5', ...] -> [(folder, weight)]; the weight follows the last '='."""
    parsed = []
    for entry in entries:
        folder, sep, value = entry.rpartition('=')
        if not sep or not folder:
            raise SystemExit(f"--extra-set '{entry}': expected FOLDER=WEIGHT, for example my-images=0.5")
        try:
            weight = float(value)
        except ValueError:
            raise SystemExit(f"--extra-set '{entry}': '{value}' is not a number (the share of the crops, for example 0.5)")
        if not weight > 0:
            raise SystemExit(f"--extra-set '{entry}': the weight must be above 0")
        if not os.path.isdir(folder):
            raise SystemExit(f"--extra-set '{entry}': {folder} is not a folder (it needs images/ and labels/)")
        parsed.append((folder, weight))
    return parsed


def add_extra_sets(entries, cache_dir, sets, weights, sources):
    """Appends each --extra-set folder's samples, weight and record (its name, not a path of this machine)."""
    for folder, weight in parse_extra_sets(entries):
        name = os.path.basename(os.path.normpath(folder))
        samples = data_mod.load_set(folder, f'extra-{name}', cache_dir=cache_dir)
        if not samples:
            raise SystemExit(f'--extra-set {folder}: no images in {os.path.join(folder, "images")}')
        sets.append(samples)
        weights.append(weight)
        sources.append({'set': f'extra/{name}', 'images': len(samples), 'weight': weight, 'sha256': data_mod.files_digest(samples)})


def load_data(args):
    set_weights = parse_set_weights(args.set_weights)
    sets, weights, sources = [], [], []
    if args.smoke:
        folders = generate_synth(args.work, 2, args.seed)[:2]
        synth = [s for f in folders for s in data_mod.load_set(f, 'synth')]
        sets, weights, sources = [synth], [1.0], [{'set': 'samstar synth (smoke)', 'images': len(synth)}]
        add_extra_sets(args.extra_set, None, sets, weights, sources)
        return sets, weights, sources
    for name in REAL_SETS:
        weight = set_weights[name]
        folder = os.path.join(args.data, name)
        if os.path.isdir(folder):
            samples = data_mod.load_set(folder, name, cache_dir=os.path.join(args.work, 'cache'))
            sets.append(samples)
            weights.append(weight)
            sources.append({'set': f'train/{name}', 'images': len(samples), 'weight': weight, 'sha256': data_mod.files_digest(samples)})
        else:
            log(f'note: {folder} not found; training without it')
    add_extra_sets(args.extra_set, os.path.join(args.work, 'cache'), sets, weights, sources)
    if args.synth_frames > 0:
        folders = generate_synth(args.work, args.synth_frames, args.seed)
        synth = [s for f in folders for s in data_mod.load_set(f, 'synth', cache_dir=os.path.join(args.work, 'cache'))]
        sets.append(synth)
        weights.append(set_weights['synth'])
        sources.append({'set': 'samstar synth', 'images': len(synth), 'weight': set_weights['synth'], 'settings': [' '.join(s) for s in SYNTH_SETTINGS], 'sha256': data_mod.files_digest(synth)})
    if not sets:
        raise SystemExit('no training data: neither --data nor --synth-frames gave any image')
    return sets, weights, sources


def dice_loss(logits, target):
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum((-1, -2))
    return 1 - (2 * inter + 1) / (prob.sum((-1, -2)) + target.sum((-1, -2)) + 1)


def mask_iou(pred, target):
    """IoU of a binary mask with a target of 0/1 or, with soft targets, of coverage fractions (then the
    IoU at the file's resolution if the mask were constant within each working pixel)."""
    pred = pred.float()
    inter = (pred * target).sum((-1, -2))
    union = pred.sum((-1, -2)) + target.sum((-1, -2)) - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-6), torch.zeros_like(union))


def step_loss(encoder, head, batch):
    """One batch → (loss, figures). Mask loss per token against its own target (object, object with
    what touches it, cluster); IoU head against each mask's real IoU with the clicked object;
    dense auxiliary losses (foreground, centre offsets) make the encoder learn quickly."""
    raw = encoder(batch['grey'])
    logits, iou = head(net.pack_features(raw), batch['cx'], batch['cy'], batch['box'], batch['has_box'], batch['box_only'])
    targets = batch['targets'].float()
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction='none').mean((-1, -2))
    mask_loss = ((bce + dice_loss(logits, targets)) * TOKEN_WEIGHTS).sum(-1).mean()

    obj = batch['object'].float().unsqueeze(2)
    true_iou = mask_iou(logits.detach() > 0, obj.expand_as(logits))
    iou_loss = F.mse_loss(iou, true_iou)

    fg_logit = encoder.fg(raw[:, :net.APPEARANCE])
    fg_loss = F.binary_cross_entropy_with_logits(fg_logit, batch['fg'])
    fg = batch['fg']
    offset_loss = ((raw[:, net.APPEARANCE:net.APPEARANCE + 2] - batch['offsets']).abs() * fg).sum() / (2 * fg.sum() + 1)
    loss = mask_loss + 2 * iou_loss + 0.5 * fg_loss + 0.5 * offset_loss

    on_object = batch['kind'] == 0
    figures = {
        'loss': loss.item(), 'mask': mask_loss.item(), 'iou': iou_loss.item(), 'fg': fg_loss.item(), 'offset': offset_loss.item(),
        'tok1_iou': true_iou[..., 1][on_object].mean().item() if on_object.any() else float('nan'),
        'best3_iou': true_iou[..., 1:].max(-1).values[on_object].mean().item() if on_object.any() else float('nan'),
        'iou_mae': (iou - true_iou).abs().mean().item(),
    }
    return loss, figures


def learning_rate(step, total, peak):
    """Linear warm-up, then cosine decay to 5 % of the peak at `total` steps."""
    warmup = min(200, total // 10 + 1)
    if step < warmup:
        return peak * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    floor = 0.05 * peak
    return floor + (peak - floor) * 0.5 * (1 + np.cos(np.pi * t))


def save_checkpoint(path, state):
    tmp = path + '.tmp'
    torch.save(state, tmp)
    os.replace(tmp, path)


def train_loop(args, encoder, head, sampler, optimiser, state):
    started = time.time()
    budget = args.minutes * 60 if args.minutes > 0 else float('inf')
    checkpoint = os.path.join(args.work, 'checkpoint.pt')
    window = []
    encoder.train()
    head.train()
    while state['step'] < args.steps and time.time() - started < budget:
        lr = learning_rate(state['step'], args.steps, args.lr)
        for group in optimiser.param_groups:
            group['lr'] = lr
        batch = sampler.batch(args.batch)
        loss, figures = step_loss(encoder, head, batch)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(encoder.parameters()) + list(head.parameters()), 5.0)
        optimiser.step()
        state['step'] += 1
        window.append(figures)
        if state['step'] % 50 == 0 or state['step'] == args.steps:
            mean = {k: float(np.nanmean([w[k] for w in window])) for k in window[0]}
            elapsed = state['elapsed'] + time.time() - started
            log(f"step {state['step']}/{args.steps} lr {lr:.2e} " + ' '.join(f'{k} {v:.4f}' for k, v in mean.items()) + f' | {elapsed / 60:.1f} min')
            state['history'].append({'step': state['step'], **mean})
            window = []
        if state['step'] % args.checkpoint_every == 0:
            save_checkpoint(checkpoint, checkpoint_state(encoder, head, optimiser, sampler, state, time.time() - started))
    save_checkpoint(checkpoint, checkpoint_state(encoder, head, optimiser, sampler, state, time.time() - started))
    state['elapsed'] += time.time() - started


def checkpoint_state(encoder, head, optimiser, sampler, state, run_seconds):
    return {'encoder': encoder.state_dict(), 'head': head.state_dict(), 'optimiser': optimiser.state_dict(),
            'sampler': sampler.state(), 'torch_rng': torch.get_rng_state(),
            'step': state['step'], 'elapsed': state['elapsed'] + run_seconds, 'history': state['history'],
            'sources': state['sources'], 'args': state['args']}


def read_exported(folder):
    """(encoder, head, run record) of a folder exported by this script (encoder.onnx, decoder.onnx,
    training.json; the shipped models/learned is one): modules of the architecture its
    training.json names, with the weights read back from the ONNX pair by onnx_weights.
    Raises ValueError naming what does not fit."""
    import onnx_weights
    record_path = os.path.join(folder, 'training.json')
    if not os.path.exists(record_path):
        raise ValueError('no training.json (it says which architecture the ONNX files hold)')
    with open(record_path) as f:
        run = json.load(f).get('training', {})
    encoder, head = build_encoder(architecture(run)), net.PromptHead()
    onnx_weights.load_exported(folder, encoder, head)
    return encoder, head, run


def load_start(path):
    """Weights to start from: a checkpoint file, or an exported folder (read_exported)."""
    if os.path.isdir(path):
        try:
            encoder, head, run = read_exported(path)
        except ValueError as problem:
            raise SystemExit(f'--init-from {path}: {problem}')
        # The auxiliary head `fg` is not exported: it starts afresh (a 1×1 convolution, learnt in a few steps).
        return {'encoder': encoder.state_dict(), 'head': head.state_dict(), 'step': run.get('steps')}
    if not os.path.exists(path):
        raise SystemExit(f'--init-from {path}: no such checkpoint or exported model folder')
    return torch.load(path)


def main(argv=None):
    args = parse_args(argv)
    zoom = parse_zoom(args.zoom)  # bad values fail before any data is read
    parse_set_weights(args.set_weights)
    parse_extra_sets(args.extra_set)
    parse_widths(args.widths)
    if args.stem_blocks < 1:
        raise SystemExit(f'--stem-blocks {args.stem_blocks}: expected 1 or more')
    if not 0 <= args.small_objects <= 1:
        raise SystemExit(f'--small-objects {args.small_objects}: expected a fraction from 0 to 1')
    if not 0 <= args.dense_images <= 1:
        raise SystemExit(f'--dense-images {args.dense_images}: expected a fraction from 0 to 1')
    if args.smoke:
        args.steps, args.batch, args.crop, args.prompts, args.synth_frames, args.checkpoint_every = 3, 2, 64, 4, 2, 1000
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.work, exist_ok=True)
    checkpoint = os.path.join(args.work, 'checkpoint.pt')
    state = {'step': 0, 'elapsed': 0.0, 'history': [], 'sources': [], 'args': vars(args)}
    saved = None
    if args.resume or args.export_only:
        if not os.path.exists(checkpoint):
            raise SystemExit(f'{checkpoint}: no checkpoint to {"resume" if args.resume else "export"}')
        saved = torch.load(checkpoint)
        # The architecture is the checkpoint's, whatever the command line says.
        vars(args).update(architecture(saved['args']))
    encoder, head = build_encoder(architecture(vars(args))), net.PromptHead()
    if args.init_from and saved is None:
        start = load_start(args.init_from)
        missing, unexpected = encoder.load_state_dict(start['encoder'], strict=False)
        if unexpected or not all(encoder.starts_as_identity(k) for k in missing):
            raise SystemExit(f'--init-from {args.init_from}: encoder weights do not fit (missing {missing}, unexpected {unexpected})')
        head.load_state_dict(start['head'])
        state['history'] = [{'its_step': start['step']}]  # where the weights came from (a path of this machine is not recorded)
        log(f"starting from the weights of {args.init_from} (its step {start['step']}); new: {', '.join(missing) or 'nothing'}")
    if saved is not None:
        encoder.load_state_dict(saved['encoder'])
        head.load_state_dict(saved['head'])
        state.update(step=saved['step'], elapsed=saved['elapsed'], history=saved['history'], sources=saved['sources'])
    if not args.export_only:
        sets, weights, sources = load_data(args)
        state['sources'] = sources
        log(f'data: ' + ', '.join(f"{s['set']} ({s['images']} images)" for s in sources))
        log(f'parameters: encoder {net.count_parameters(encoder)}, prompt head {net.count_parameters(head)}')
        sampler = data_mod.Sampler(sets, weights, crop=args.crop, prompts=args.prompts, seed=args.seed, zoom=zoom, input_scale=encoder.input_scale, small=args.small_objects, dense=args.dense_images,
                                   soft=args.soft_targets)
        optimiser = torch.optim.AdamW(list(encoder.parameters()) + list(head.parameters()), lr=args.lr, weight_decay=1e-4)
        if args.resume:
            optimiser.load_state_dict(saved['optimiser'])
            sampler.restore(saved['sampler'])
            torch.set_rng_state(saved['torch_rng'])
            log(f"resuming at step {state['step']} ({state['elapsed'] / 60:.1f} min trained so far)")
        train_loop(args, encoder, head, sampler, optimiser, state)
    if not args.no_export:
        import export
        info = export.export_model(encoder, head, args.out)
        # The run's own settings: with --export-only they are the checkpoint's, not this command line's.
        run = dict(vars(args), **saved['args']) if args.export_only else vars(args)
        info.update(training={'steps': state['step'], 'minutes': round(state['elapsed'] / 60, 1), 'seed': run['seed'],
                              'detail': bool(args.detail), 'widths': args.widths, 'stem_blocks': args.stem_blocks,
                              'init_from_step': next((h['its_step'] for h in state['history'] if 'its_step' in h), None),
                              'threads': run['threads'], 'batch': run['batch'], 'zoom': run['zoom'], 'small_objects': run['small_objects'],
                              'dense_images': run['dense_images'], 'soft_targets': bool(run.get('soft_targets', False)), 'set_weights': run['set_weights'], 'crop': run['crop'], 'prompts': run['prompts'],
                              'torch': torch.__version__, 'data': state['sources'],
                              'last': state['history'][-1] if state['history'] and 'step' in state['history'][-1] else None})
        with open(os.path.join(args.out, 'training.json'), 'w') as f:
            json.dump(info, f, indent=2)
            f.write('\n')
        log(f"exported to {args.out}: " + ', '.join(f"{k} {v['bytes']} bytes" for k, v in info['files'].items()))


if __name__ == '__main__':
    main()
