"""Export samstar-learned (NOT SAM) as two ONNX files with the official SAM 1 contract.

Entry point: `export_model(encoder, head, out_dir)`.

- encoder.onnx: `input_image` float32 [1,3,1024,1024] (SAM-normalised, zero-padded bottom/right)
  → `image_embeddings` [1,256,64,64]. In-graph: undo the normalisation, grey = mean of R,G,B,
  4×4 average pool to the 256² working grid, the network, and the 16 maps of 256² stored row-major
  in the embedding (reshape only: the decoder reshapes back, so no data moves).
- decoder.onnx: `image_embeddings`, `point_coords` [1,N,2] (1024-frame x,y), `point_labels` [1,N]
  (1 foreground, 0 background, 2/3 box corners, −1 padding), `mask_input` [1,1,256,256],
  `has_mask_input` [1], `orig_im_size` [2] = (H,W) → `masks` [1,4,H,W], `iou_predictions` [1,4],
  `low_res_masks` [1,4,256,256]. The click is the first label-1 point; without one, the box centre;
  without a box, the first non-padding point. Label-0 points are accepted and ignored. Where
  `has_mask_input` is 1 the logits are 0.5·logits + 0.5·`mask_input`, and `iou_predictions` describe
  those blended masks (the masks the decoder returns). `masks` is
  SAM's own post-processing (bilinear to 1024², crop to the resized image, bilinear to H×W), so the
  host upsampling of `low_res_masks` reproduces it exactly.
"""
import hashlib
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import net

PIXEL_MEAN = (123.675, 116.28, 103.53)
PIXEL_STD = (58.395, 57.12, 57.375)
OPSET = 17


class SamEncoder(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.register_buffer('mean', torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(PIXEL_STD).view(1, 3, 1, 1))

    def forward(self, input_image):
        grey = (input_image * self.std + self.mean).mean(1, keepdim=True)
        # The encoder reads the working grid (a 4×4 mean of the frame) or, with its detail branch, the frame itself.
        pool = 4 // self.encoder.input_scale
        if pool > 1:
            grey = F.avg_pool2d(grey, pool)
        return net.pack_features(self.encoder(grey)).reshape(1, 256, 64, 64)


def first_of(flags):
    """One-hot of the first 1 in a 0/1 vector (all zero when there is none)."""
    return flags * (torch.cumsum(flags, 0) == 1).to(flags.dtype)


def read_2x2(maps, click):
    """Bilinear read of maps [1,C,256,256] at click (x, y) index coordinates → [1,1,C], from the 2×2
    neighbourhood only (two Gathers), equal to net.bilinear_read (clamped at the frame edge)."""
    size = maps.shape[-1]
    c = click.clamp(0, size - 1)
    origin = torch.floor(c).clamp(max=size - 2)
    frac = c - origin
    x0, y0 = origin[0].to(torch.int64), origin[1].to(torch.int64)
    patch = maps.index_select(2, torch.stack([y0, y0 + 1])).index_select(3, torch.stack([x0, x0 + 1]))  # [1,C,2,2]
    wy = torch.stack([1 - frac[1], frac[1]]).view(1, 1, 2, 1)
    wx = torch.stack([1 - frac[0], frac[0]]).view(1, 1, 1, 2)
    return (patch * wy * wx).sum((-1, -2)).view(1, 1, -1)


class SamDecoder(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, image_embeddings, point_coords, point_labels, mask_input, has_mask_input, orig_im_size):
        features = image_embeddings.reshape(1, net.FEATURES, 256, 256)
        labels = point_labels[0]
        coords = point_coords[0] / 4 - 0.5  # 1024-frame coordinates → working-pixel index coordinates
        pos = (labels == 1).to(coords.dtype)
        corner0 = (labels == 2).to(coords.dtype)
        corner1 = (labels == 3).to(coords.dtype)
        real = (labels != -1).to(coords.dtype)
        has_pos = pos.sum().clamp(max=1)
        has_box = corner0.sum().clamp(max=1) * corner1.sum().clamp(max=1)
        c0 = (corner0.unsqueeze(1) * coords).sum(0) / corner0.sum().clamp(min=1)
        c1 = (corner1.unsqueeze(1) * coords).sum(0) / corner1.sum().clamp(min=1)
        click_pos = (first_of(pos).unsqueeze(1) * coords).sum(0)
        click_any = (first_of(real).unsqueeze(1) * coords).sum(0)
        click = has_pos * click_pos + (1 - has_pos) * (has_box * (c0 + c1) / 2 + (1 - has_box) * click_any)
        box = torch.cat([torch.minimum(c0, c1), torch.maximum(c0, c1)]).view(1, 1, 4)
        cx, cy = click[0].view(1, 1), click[1].view(1, 1)
        # A previous mask blends in: (1 − b)·logits + b·mask_input with b = 0.5 where has_mask_input is 1.
        blend = 0.5 * has_mask_input.reshape(())
        logits, iou = self.head(features, cx, cy, box, has_box.view(1, 1), (has_box * (1 - has_pos)).view(1, 1), at_click=read_2x2(features, click),
                                mask_input=mask_input, blend=blend)
        low_res = logits.reshape(1, net.TOKENS, 256, 256)  # one prompt: a reshape, not a copying Gather
        masks = F.interpolate(low_res, (1024, 1024), mode='bilinear', align_corners=False)
        size = orig_im_size.to(torch.float32)
        prepadded = torch.floor(size * (1024 / torch.max(size)) + 0.5).to(torch.int64)
        masks = masks[..., : prepadded[0], : prepadded[1]]
        orig = orig_im_size.to(torch.int64)
        masks = F.interpolate(masks, size=(orig[0], orig[1]), mode='bilinear', align_corners=False)
        return masks, iou[:, 0], low_res


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def export_model(encoder, head, out_dir):
    """Writes encoder.onnx and decoder.onnx (write-then-rename); returns their sizes and sha256."""
    os.makedirs(out_dir, exist_ok=True)
    encoder.eval()
    head.eval()
    enc = SamEncoder(encoder).eval()
    dec = SamDecoder(head).eval()
    image = torch.zeros(1, 3, 1024, 1024)
    embedding = torch.zeros(1, 256, 64, 64)
    inputs = (embedding, torch.tensor([[[500.0, 400.0], [0.0, 0.0]]]), torch.tensor([[1.0, -1.0]]),
              torch.zeros(1, 1, 256, 256), torch.zeros(1), torch.tensor([700.0, 900.0]))
    paths = {'encoder.onnx': os.path.join(out_dir, 'encoder.onnx'), 'decoder.onnx': os.path.join(out_dir, 'decoder.onnx')}
    with torch.no_grad():
        torch.onnx.export(enc, (image,), paths['encoder.onnx'] + '.tmp', input_names=['input_image'], output_names=['image_embeddings'],
                          opset_version=OPSET, do_constant_folding=True)
        torch.onnx.export(dec, inputs, paths['decoder.onnx'] + '.tmp',
                          input_names=['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size'],
                          output_names=['masks', 'iou_predictions', 'low_res_masks'],
                          dynamic_axes={'point_coords': {1: 'num_points'}, 'point_labels': {1: 'num_points'}},
                          opset_version=OPSET, do_constant_folding=True)
    for path in paths.values():
        os.replace(path + '.tmp', path)
    return {'files': {name: {'bytes': os.path.getsize(p), 'sha256': sha256_of(p)} for name, p in paths.items()}}
