"""Training data for samstar-learned: image sets with instance labels, crops at the working scale, prompts.

Entry points: `load_sets` (folders of images/ + labels/ → in-memory samples, stretched as samstar's
loader does) and `Sampler.batch` (random crops with augmentation and SAM-style prompt sampling).

Scale convention: the network sees the SAM frame (long side 1024) average-pooled 4×, i.e. the image
with its long side at 256 working pixels. A crop is taken at a random zoom around that natural scale
(0.7×–2.5×: crop layers re-encode image parts at 2× and more), so objects of 4–200 px in the file
all appear at sizes the model has seen. With `small` > 0, that fraction of crops is zoomed instead so
that the image's median object is 3–10 working px across: at the natural scale few training objects
are that small (14 % of the EMPS training objects are under 8 px), and clicks on such objects failed.
"""
import hashlib
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage

from net import COORD_UNIT, PAD_GREY

IMAGE_EXT = ('.png', '.tif', '.tiff', '.jpg', '.jpeg')
WORKING = 256
SMALL_OBJECTS = (3.0, 10.0)  # working px across, the range `Sampler(small=...)` crops aim the median object at
SMALL_ZOOM_MAX = 3.0  # as a factor of the natural scale


@dataclass
class Sample:
    name: str
    group: str
    grey: np.ndarray  # float32 [H,W], 0–255 after the percentile stretch
    labels: np.ndarray  # int32 [H,W], 0 = background


def stretch(values, low=0.5, high=99.5):
    """samstar's default stretch: percentiles 0.5 / 99.5 of the samples map to 0 / 255 (clipped)."""
    lo, hi = np.percentile(values, [low, high])
    if hi <= lo:
        return np.zeros(values.shape, np.float32)
    return np.clip((values.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.float32)


def read_grey(path):
    """Grey samples of an image file: RGB(A) → mean of R, G, B; any bit depth."""
    data = np.array(Image.open(path))
    if data.ndim == 3:
        data = data[..., :3].astype(np.float32).mean(-1)
    return stretch(data)


def load_set(folder, group, cache_dir=None):
    """A folder with images/ and labels/ (same file stems) → list of Sample. Raises on a missing label.
    With `cache_dir`, the decoded and stretched samples are kept in a pickle keyed by the folder's
    file names, sizes and times, so a resumed run starts in seconds instead of minutes."""
    if cache_dir:
        import pickle
        listing = []
        for sub in ('images', 'labels'):
            d = os.path.join(folder, sub)
            if os.path.isdir(d):
                listing += [(sub, f, os.path.getsize(os.path.join(d, f)), int(os.path.getmtime(os.path.join(d, f)))) for f in sorted(os.listdir(d))]
        key = hashlib.sha256(repr((os.path.abspath(folder), group, listing)).encode()).hexdigest()[:16]
        path = os.path.join(cache_dir, f'{group}-{key}.pkl')
        if os.path.exists(path):
            with open(path, 'rb') as f:
                return pickle.load(f)
        samples = load_set(folder, group)
        os.makedirs(cache_dir, exist_ok=True)
        with open(path + '.tmp', 'wb') as f:
            pickle.dump(samples, f, protocol=4)
        os.replace(path + '.tmp', path)
        return samples
    image_dir = os.path.join(folder, 'images')
    label_dir = os.path.join(folder, 'labels')
    if not os.path.isdir(image_dir) or not os.path.isdir(label_dir):
        raise SystemExit(f'{folder}: expected images/ and labels/ folders')
    labels_by_stem = {os.path.splitext(f)[0]: f for f in os.listdir(label_dir)}
    samples = []
    for name in sorted(os.listdir(image_dir)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in IMAGE_EXT:
            continue
        if stem not in labels_by_stem:
            raise SystemExit(f'{os.path.join(image_dir, name)}: no label image {stem}.* in {label_dir}')
        grey = read_grey(os.path.join(image_dir, name))
        labels = np.array(Image.open(os.path.join(label_dir, labels_by_stem[stem]))).astype(np.int32)
        if labels.ndim == 3:
            labels = labels[..., 0]
        if labels.shape != grey.shape:
            raise SystemExit(f'{name}: label image is {labels.shape}, image is {grey.shape}')
        samples.append(Sample(f'{group}/{name}', group, grey, labels))
    return samples


def files_digest(samples):
    """sha256 over the names and pixels of every training sample (recorded with the model)."""
    h = hashlib.sha256()
    for s in samples:
        h.update(s.name.encode())
        h.update(np.ascontiguousarray(s.grey).tobytes())
        h.update(np.ascontiguousarray(s.labels).tobytes())
    return h.hexdigest()


def object_count(labels):
    """Number of distinct labelled objects (label ids need not be consecutive)."""
    return int(np.count_nonzero(np.bincount(labels.ravel())[1:]))


def median_object_diameter(labels):
    """Median equivalent diameter (file pixels) of the labelled objects; 0 without any."""
    areas = np.bincount(labels.ravel())[1:]
    areas = areas[areas > 0]
    return float(2 * np.sqrt(np.median(areas) / np.pi)) if areas.size else 0.0


def instance_geometry(labels):
    """Per instance of a label crop: ids, interior points (max of the distance transform with
    instance borders as background), centroids, boxes. Shapes: ids [N], points/centroids [N,2] (x,y)."""
    ids = np.unique(labels)
    ids = ids[ids > 0]
    if ids.size == 0:
        return ids, np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 4))
    border = np.zeros(labels.shape, bool)
    border[:-1] |= labels[:-1] != labels[1:]
    border[1:] |= labels[:-1] != labels[1:]
    border[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    border[:, 1:] |= labels[:, :-1] != labels[:, 1:]
    inner = (labels > 0) & ~border
    edt = ndimage.distance_transform_edt(np.pad(inner, 1))[1:-1, 1:-1]
    edt = edt + (labels > 0) * 1e-3  # objects that are all border still get a point
    points = np.array(ndimage.maximum_position(edt, labels, ids), dtype=np.float64)[:, ::-1]
    centroids = np.array(ndimage.center_of_mass(np.ones_like(labels), labels, ids), dtype=np.float64)[:, ::-1]
    slices = ndimage.find_objects(labels)
    boxes = np.array([[slices[i - 1][1].start, slices[i - 1][0].start, slices[i - 1][1].stop - 1, slices[i - 1][0].stop - 1] for i in ids], dtype=np.float64)
    return ids, points, centroids, boxes


class Sampler:
    """Random training crops and prompts. Deterministic for a seed (numpy Generator)."""

    def __init__(self, sets, weights, crop=128, prompts=8, seed=0, zoom=(0.7, 2.5), input_scale=1, small=0.0, dense=0.0, soft=False):
        kept = [(s, w) for s, w in zip(sets, weights) if s]
        self.sets = [s for s, _ in kept]
        self.weights = np.array([w for _, w in kept]) / sum(w for _, w in kept)
        self.crop = crop
        self.prompts = prompts
        self.zoom = zoom  # range of the crop's scale, as a factor of the image's natural working scale
        self.input_scale = input_scale  # the grey crop's pixels per working pixel (the encoder's input_scale)
        # Fraction of crops zoomed so that the image's median object is SMALL_OBJECTS working px across:
        # at the natural scale few training objects are that small, and clicks on them failed.
        self.small = small
        self.median_diameter = [[median_object_diameter(sample.labels) for sample in s] for s in self.sets]
        # Fraction of crops whose image is drawn in proportion to its object count rather than
        # uniformly: the click benchmark averages over objects, and crowded images (an embryo's
        # ring of 200 nuclei, dense particle films) were a few percent of the crops but a large
        # share of the objects.
        self.dense = dense
        counts = [np.array([max(1, object_count(sample.labels)) for sample in s], np.float64) for s in self.sets]
        self.count_weights = [c / c.sum() for c in counts]
        # Soft mask targets: each working pixel's target is the fraction of it the object covers in the
        # file, not the label at its centre. The bench scores masks at the image's own resolution after
        # bilinear upsampling of the 256² logits; with 0/1 targets at 256² even a perfect model stays at
        # IoU ~0.90 on the development sets (0.87 on EMPS particles of 5–8 working px), with coverage
        # targets at ~0.96–0.98 (measured with the labels themselves as the model). No random number is
        # drawn for them, so the crops and prompts are those of a run without.
        self.soft = soft
        self.rng = np.random.default_rng(seed)

    def state(self):
        return self.rng.bit_generator.state

    def restore(self, state):
        self.rng.bit_generator.state = state

    def crop_sample(self):
        """One augmented crop: grey [s·S,s·S] 0–255 at s (`input_scale`) pixels per working pixel (SAM
        padding grey beyond the image), labels [S,S] at working scale, and the crop's labels at file
        resolution (same rotation and flip) that fill the top-left [out_h, out_w] of the working crop."""
        rng = self.rng
        which = rng.choice(len(self.sets), p=self.weights)
        s = self.sets[which]
        # With dense == 0 no extra number is drawn, so earlier runs resume on the same stream.
        if self.dense > 0 and rng.random() < self.dense:
            index = int(rng.choice(len(s), p=self.count_weights[which]))
        else:
            index = rng.integers(len(s))
        sample = s[index]
        h, w = sample.labels.shape
        natural = WORKING / max(h, w)
        zoom = natural * np.exp(rng.uniform(np.log(self.zoom[0]), np.log(self.zoom[1])))
        diameter = self.median_diameter[which][index]
        if self.small > 0 and rng.random() < self.small and diameter > 0:
            target = np.exp(rng.uniform(np.log(SMALL_OBJECTS[0]), np.log(SMALL_OBJECTS[1])))
            # Never below half the natural scale: the image would fill less than the crop.
            zoom = max(0.5 * natural, min(SMALL_ZOOM_MAX * natural, target / diameter))
        side = int(round(self.crop / zoom))  # crop side in file pixels
        # Origins may run past the bottom/right edge (as SAM pads there) but not the top/left.
        x0 = int(rng.integers(0, max(1, w - side // 2)))
        y0 = int(rng.integers(0, max(1, h - side // 2)))
        grey = sample.grey[y0:y0 + side, x0:x0 + side]
        labels = sample.labels[y0:y0 + side, x0:x0 + side]
        k = int(rng.integers(4))
        grey, labels = np.rot90(grey, k), np.rot90(labels, k)
        if rng.random() < 0.5:
            grey, labels = grey[:, ::-1], labels[:, ::-1]
        grey = self.augment_intensity(np.ascontiguousarray(grey))
        out_h = max(1, min(self.crop, int(round(grey.shape[0] * zoom))))
        out_w = max(1, min(self.crop, int(round(grey.shape[1] * zoom))))
        scale = self.input_scale
        g = torch.from_numpy(grey)[None, None]
        g = F.interpolate(g, size=(out_h * scale, out_w * scale), mode='bilinear', align_corners=False, antialias=True)[0, 0].numpy()
        l = torch.from_numpy(np.ascontiguousarray(labels).astype(np.float32))[None, None]
        # 'nearest-exact' samples at pixel centres like the bilinear image resize; plain 'nearest' would
        # shift labels up-left by up to half a source pixel against the image (and the masks learnt with them).
        l = F.interpolate(l, size=(out_h, out_w), mode='nearest-exact')[0, 0].numpy().astype(np.int32)
        canvas = np.full((self.crop * scale, self.crop * scale), PAD_GREY, np.float32)
        canvas[:out_h * scale, :out_w * scale] = np.round(np.clip(g, 0, 255))
        lab = np.zeros((self.crop, self.crop), np.int32)
        lab[:out_h, :out_w] = l
        return canvas, lab, (np.ascontiguousarray(labels), out_h, out_w)

    def coverage(self, file_labels, id_sets):
        """Soft targets [len(id_sets), S, S]: per working pixel, the fraction covered by the labels of
        each id set, from the file-resolution crop resized as the image is (bilinear, antialiased)."""
        labels, out_h, out_w = file_labels
        out = np.zeros((len(id_sets), self.crop, self.crop), np.float32)
        # Tokens and prompts often share a set (tokens 0 and 1, a box's four): each distinct set is resized once.
        keys = [tuple(int(v) for v in ids) for ids in id_sets]
        distinct = sorted(set(k for k in keys if k))
        if not distinct:
            return out
        lut = np.zeros((len(distinct), int(labels.max()) + 1), np.float32)
        for i, ids in enumerate(distinct):
            lut[i, list(ids)] = 1
        masks = torch.from_numpy(lut[:, labels])[None]  # [1, N, h, w]
        fraction = F.interpolate(masks, size=(out_h, out_w), mode='bilinear', align_corners=False, antialias=True)[0].clamp(0, 1).numpy()
        row = {key: i for i, key in enumerate(distinct)}
        for i, key in enumerate(keys):
            if key:
                out[i, :out_h, :out_w] = fraction[row[key]]
        return out

    def augment_intensity(self, grey):
        rng = self.rng
        v = grey / 255.0
        if rng.random() < 0.3:
            v = 1 - v  # dark-on-bright as well as bright-on-dark
        v = v ** np.exp(rng.uniform(-0.5, 0.5))
        lo, hi = rng.uniform(0, 0.25), rng.uniform(0.6, 1.0)
        v = lo + (hi - lo) * v
        if rng.random() < 0.25:
            v = ndimage.gaussian_filter(v, rng.uniform(0.5, 1.5))
        if rng.random() < 0.35:
            v = v + rng.normal(0, rng.uniform(0.01, 0.08), v.shape)
        return np.clip(v * 255, 0, 255).astype(np.float32)

    def prompts_for(self, labels, geometry, file_labels=None):
        """K prompts for one crop, SAM-style: interior and random points on objects, points on the
        background, boxes. `geometry` is instance_geometry(labels). Returns arrays: cx, cy, box [K,4], has_box, box_only, kind (0 point on an
        object, 1 background point, 2 box), and targets [K,4,S,S] + target object [K,S,S]: 0/1 (uint8)
        at the working pixels' centres, or with `soft` the coverage of each working pixel (float32,
        from `file_labels`, crop_sample's third value)."""
        rng = self.rng
        k = self.prompts
        ids, points, _, boxes = geometry
        cx = np.zeros(k, np.float32)
        cy = np.zeros(k, np.float32)
        box = np.zeros((k, 4), np.float32)
        has_box = np.zeros(k, np.float32)
        box_only = np.zeros(k, np.float32)
        kind = np.zeros(k, np.int64)
        targets = np.zeros((k, 4) + labels.shape, np.uint8)
        obj = np.zeros((k,) + labels.shape, np.uint8)
        fg = labels > 0
        clusters, _ = ndimage.label(fg, structure=np.ones((3, 3)))
        background = np.flatnonzero(~fg)
        id_sets = [[np.zeros(0, np.int64)] * 4 for _ in range(k)]  # per prompt: the label ids of tokens 0–3
        for i in range(k):
            r = rng.random()
            if ids.size == 0 or (r < 0.18 and background.size > 0):
                if background.size == 0:
                    idx = int(rng.integers(labels.size))
                else:
                    idx = int(background[rng.integers(background.size)])
                cy[i], cx[i] = divmod(idx, labels.shape[1])
                kind[i] = 1
                continue
            j = int(rng.integers(ids.size))
            mask = labels == ids[j]
            if r < 0.85:
                if rng.random() < 0.4:
                    cx[i], cy[i] = points[j]
                else:
                    ys, xs = np.nonzero(mask)
                    pick = int(rng.integers(xs.size))
                    cx[i], cy[i] = xs[pick], ys[pick]
                kind[i] = 0
                touching = np.unique(labels[ndimage.binary_dilation(mask, iterations=2)])
                near = np.isin(labels, touching[touching > 0])
                in_cluster = np.isin(clusters, np.unique(clusters[mask]))
                targets[i, 0] = mask
                targets[i, 1] = mask
                targets[i, 2] = near
                targets[i, 3] = near | in_cluster
                if self.soft:
                    near_ids = touching[touching > 0]
                    id_sets[i] = [ids[j:j + 1], ids[j:j + 1], near_ids, np.union1d(near_ids, np.unique(labels[in_cluster]))]
            else:
                bx = boxes[j].copy()
                size = np.array([bx[2] - bx[0] + 1, bx[3] - bx[1] + 1, bx[2] - bx[0] + 1, bx[3] - bx[1] + 1])
                bx = bx + rng.normal(0, 0.06, 4) * size
                box[i] = bx
                cx[i], cy[i] = (bx[0] + bx[2]) / 2, (bx[1] + bx[3]) / 2
                has_box[i] = 1
                box_only[i] = 1
                kind[i] = 2
                targets[i, :] = mask
                if self.soft:
                    id_sets[i] = [ids[j:j + 1]] * 4
            obj[i] = mask
        if self.soft:
            # Token 0's set is the object itself, for every prompt kind: its coverage is also `object`.
            flat = [s for sets in id_sets for s in sets]
            targets = self.coverage(file_labels, flat).reshape(targets.shape)
            obj = targets[:, 0].copy()
        return dict(cx=cx, cy=cy, box=box, has_box=has_box, box_only=box_only, kind=kind, targets=targets, object=obj)

    def dense_targets(self, labels, geometry):
        """Per-pixel targets for the auxiliary heads: foreground [S,S], centre offsets [2,S,S] (units of 32 px)."""
        ids, _, centroids, _ = geometry
        offsets = np.zeros((2,) + labels.shape, np.float32)
        if ids.size:
            lut_x = np.zeros(labels.max() + 1, np.float32)
            lut_y = np.zeros(labels.max() + 1, np.float32)
            lut_x[ids] = centroids[:, 0]
            lut_y[ids] = centroids[:, 1]
            ys, xs = np.mgrid[0:labels.shape[0], 0:labels.shape[1]]
            fg = labels > 0
            offsets[0] = np.where(fg, (lut_x[labels] - xs) / COORD_UNIT, 0)
            offsets[1] = np.where(fg, (lut_y[labels] - ys) / COORD_UNIT, 0)
        return (labels > 0).astype(np.float32), offsets

    def batch(self, size):
        greys, prompts, fgs, offs = [], [], [], []
        for _ in range(size):
            grey, labels, file_labels = self.crop_sample()
            greys.append(grey)
            geometry = instance_geometry(labels)  # once per crop: both target builders need it
            prompts.append(self.prompts_for(labels, geometry, file_labels))
            fg, off = self.dense_targets(labels, geometry)
            fgs.append(fg)
            offs.append(off)
        out = {key: torch.from_numpy(np.stack([p[key] for p in prompts])) for key in prompts[0]}
        out['grey'] = torch.from_numpy(np.stack(greys))[:, None]
        out['fg'] = torch.from_numpy(np.stack(fgs))[:, None]
        out['offsets'] = torch.from_numpy(np.stack(offs))
        return out
