"""Read the weights of an exported samstar-learned pair (encoder.onnx + decoder.onnx) back into
`net.Encoder` and `net.PromptHead`, so a model can be fine-tuned from its exported files alone
(`train.py --init-from FOLDER`): the shipped model, or one a user received without its checkpoint.

Entry point: `load_exported(folder, encoder, head)`.

Why a probe: the exporter keeps some parameter names but folds others into new constants (GroupNorm's
weight and bias become [C,1,1] tensors named `onnx::Mul_…`, Linear weights become transposed
`onnx::MatMul_…` tensors). Rather than guess the exporter's rules, the same architecture is exported
once with every parameter element set to its own index (+0.5, so that no real constant of the graph
looks like one); each initializer of that probe then says which parameter elements it holds, in what
order. Export is deterministic, so the exported pair being read has the same initializer names.
`load_exported` checks that every parameter element is found, and that the files were exported from
this architecture (same initializer names and shapes); the round trip (read, export again) gives
files with the same sha256, which the tests check.
"""
import os
import tempfile

import numpy as np
import torch

import export

MARK = 0.5  # probe values are index + MARK; float32 holds them exactly below 2^23


def _initializers(path):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def exported_parameters(encoder, head):
    """The parameters the ONNX pair holds: all but the encoder's training-only auxiliary head (`fg`),
    which keeps the values it has."""
    return [p for name, p in encoder.named_parameters() if not name.startswith('fg.')] + list(head.parameters())


def _probe_maps(encoder, head):
    """Export the architecture with parameter elements numbered; returns, per ONNX file, the probe's
    initializers that hold parameter elements: {name: flat int64 indices into the joined parameters}."""
    params = exported_parameters(encoder, head)
    total = sum(p.numel() for p in params)
    if total >= 2 ** 23:
        raise ValueError(f'{total} parameters: too many for the float32 probe')
    saved = [p.detach().clone() for p in params]
    offset = 0
    with torch.no_grad():
        for p in params:
            p.copy_(torch.arange(offset, offset + p.numel(), dtype=torch.float64).view_as(p).float() + MARK)
            offset += p.numel()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            export.export_model(encoder, head, tmp)
            maps = {}
            for name in ('encoder.onnx', 'decoder.onnx'):
                found = {}
                for key, value in _initializers(os.path.join(tmp, name)).items():
                    flat = value.astype(np.float64).reshape(-1)
                    index = flat - MARK
                    if value.dtype != np.float32 or flat.size == 0 or not np.all((index == np.round(index)) & (index >= 0) & (index < total)):
                        continue
                    found[key] = index.astype(np.int64)
                maps[name] = found
    finally:
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)
    return maps, params, total


def load_exported(folder, encoder, head):
    """Sets encoder's and head's parameters from `folder`'s encoder.onnx and decoder.onnx. The
    modules must have the architecture the files were exported from (training.json says which).
    The auxiliary head `encoder.fg` is not exported and keeps its values.
    Raises ValueError naming the file and initializer that does not fit."""
    maps, params, total = _probe_maps(encoder, head)
    values = np.full(total, np.nan, np.float32)
    for name, found in maps.items():
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            raise ValueError(f'{path}: missing (an exported model folder holds encoder.onnx and decoder.onnx)')
        stored = _initializers(path)
        for key, index in found.items():
            if key not in stored:
                raise ValueError(f'{path}: no initializer {key!r}: the file was not exported from this architecture (see its training.json)')
            if stored[key].size != index.size:
                raise ValueError(f'{path}: initializer {key!r} holds {stored[key].size} values, this architecture {index.size}')
            values[index] = stored[key].reshape(-1)
    if np.isnan(values).any():
        raise ValueError(f'{folder}: {int(np.isnan(values).sum())} of {total} parameter values not found in the exported files')
    offset = 0
    with torch.no_grad():
        for p in params:
            p.copy_(torch.from_numpy(values[offset:offset + p.numel()]).view_as(p))
            offset += p.numel()
