#!/usr/bin/env python3
"""Reference fixture for samstar's instance matching: StarDist/elf-style matching on real labels.

Run once (Debian: `apt-get install -y python3-skimage`, which brings scipy) from the repository root:

    /usr/bin/python3 scripts/matching-fixture.py > test/fixtures/matching.json

Pairs of real label images that differ (consecutive frames of a time-lapse: cells move and change
shape, so IoUs spread over the whole range) are matched the way micro-sam's metric (elf, after
StarDist) does: IoU between every predicted and true instance, at each threshold a Hungarian
assignment with cost -(IoU >= t) - IoU / (2 n) (scipy's linear_sum_assignment), TP = pairs with
IoU >= t. The TypeScript tests compare TP counts and mSA with this JSON and never need Python.
"""
import json
import sys

import numpy as np
import scipy
from PIL import Image
from scipy.optimize import linear_sum_assignment

DATA = '../shared/data'
PAIRS = [
    ('timelapse-nuclei/labels/frame_001.png', 'timelapse-nuclei/labels/frame_000.png'),
    ('timelapse-phase/labels/frame_001.png', 'timelapse-phase/labels/frame_000.png'),
    ('timelapse-phase/labels/frame_005.png', 'timelapse-phase/labels/frame_003.png'),
]
THRESHOLDS = [round(0.5 + 0.05 * k, 2) for k in range(10)] + [0.1, 0.3]


def iou_matrix(pred, truth):
    p_ids = [v for v in np.unique(pred) if v != 0]
    t_ids = [v for v in np.unique(truth) if v != 0]
    p_index = {v: i for i, v in enumerate(p_ids)}
    t_index = {v: i for i, v in enumerate(t_ids)}
    inter = np.zeros((len(p_ids), len(t_ids)))
    both = (pred != 0) & (truth != 0)
    for p, t in zip(pred[both], truth[both]):
        inter[p_index[p], t_index[t]] += 1
    p_area = np.array([np.count_nonzero(pred == v) for v in p_ids], float)
    t_area = np.array([np.count_nonzero(truth == v) for v in t_ids], float)
    union = p_area[:, None] + t_area[None, :] - inter
    return inter / np.maximum(union, 1), len(p_ids), len(t_ids)


def true_positives(iou, threshold):
    n_matched = min(iou.shape)
    if n_matched == 0:
        return 0
    cost = -(iou >= threshold).astype(float) - iou / (2 * n_matched)
    rows, cols = linear_sum_assignment(cost)
    return int(np.count_nonzero(iou[rows, cols] >= threshold))


def main():
    out = {'generator': 'scripts/matching-fixture.py', 'scipy': scipy.__version__, 'pairs': []}
    for pred_path, truth_path in PAIRS:
        pred = np.array(Image.open(f'{DATA}/{pred_path}')).astype(np.int64)
        truth = np.array(Image.open(f'{DATA}/{truth_path}')).astype(np.int64)
        iou, n_pred, n_true = iou_matrix(pred, truth)
        tps = {str(t): true_positives(iou, t) for t in THRESHOLDS}
        sa = [tps[str(t)] / (n_pred + n_true - tps[str(t)]) for t in THRESHOLDS[:10]]
        out['pairs'].append({
            'pred': pred_path,
            'truth': truth_path,
            'n_pred': n_pred,
            'n_true': n_true,
            'tp': tps,
            'msa': float(np.mean(sa)),
        })
        print(f'{pred_path} vs {truth_path}: {n_pred} x {n_true}, tp {tps}', file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
