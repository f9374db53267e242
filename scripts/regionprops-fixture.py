#!/usr/bin/env python3
"""Reference fixture for samstar's instance measurements: scikit-image regionprops on real label images.

Run once (Debian: `apt-get install -y python3-skimage`) from the repository root:

    /usr/bin/python3 scripts/regionprops-fixture.py > test/fixtures/regionprops.json

It reads a few label PNGs from ../shared/data and writes, per file, every region's skimage values.
The TypeScript tests compare against this JSON and never need Python. The file list is fixed here so
the fixture is reproducible; the values are rounded to 12 significant digits.
"""
import json
import sys

import numpy as np
import skimage
from PIL import Image
from skimage.measure import regionprops

DATA = '../shared/data'
FILES = [
    'bbbc039/labels/IXMtest_A15_s5_w1825174D4-ED30-490C-9635-6196417D6C9D.png',
    'bbbc039/labels/IXMtest_A21_s1_w1D8BF2790-C628-4109-94AF-DF6D8A3480B6.png',
    'dsb2018/labels/0280fa8f60f6bcae0f97d93c28f60be194f9309ff610dc5845e60455b0f87c21.png',
    'dsb2018/labels/06350c7cc618be442c15706db7a68e91f313758d224de4608f9b960106d4f9ca.png',
    'timelapse-phase/labels/frame_000.png',
    'timelapse-phase/labels/frame_005.png',
    'timelapse-nuclei/labels/frame_000.png',
]


def r(x):
    return float(f'{float(x):.12g}')


def main():
    out = {
        'generator': 'scripts/regionprops-fixture.py',
        'skimage': skimage.__version__,
        'numpy': np.__version__,
        'files': [],
    }
    for rel in FILES:
        labels = np.array(Image.open(f'{DATA}/{rel}')).astype(np.int64)
        regions = []
        for p in regionprops(labels):
            regions.append({
                'label': int(p.label),
                'area': int(p.area),
                'bbox': [int(v) for v in p.bbox],
                'centroid': [r(v) for v in p.centroid],
                'perimeter': r(p.perimeter),
                'equivalent_diameter': r(p.equivalent_diameter_area),
                'major_axis_length': r(p.axis_major_length),
                'minor_axis_length': r(p.axis_minor_length),
                'eccentricity': r(p.eccentricity),
                'orientation': r(p.orientation),
                # [a, b, c] of skimage's inertia tensor [[a, b], [b, c]]: tells the tests when
                # skimage took its exact a == c branch for the orientation.
                'inertia_tensor': [r(v) for v in np.asarray(p.inertia_tensor).flat[[0, 1, 3]]],
                'orientation_branch': bool(p.inertia_tensor[0, 0] - p.inertia_tensor[1, 1] == 0),
                'convex_area': int(p.area_convex),
                'solidity': r(p.solidity),
            })
        out['files'].append({'path': rel, 'height': labels.shape[0], 'width': labels.shape[1], 'regions': regions})
        print(f'{rel}: {len(regions)} regions', file=sys.stderr)
    json.dump(out, sys.stdout, separators=(',', ':'))
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
