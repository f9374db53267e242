"""samstar-learned: a small promptable segmenter trained for SAM 1's exact ONNX contract (it is not SAM).

Entry points: `Encoder` (image → 11 raw maps at the 256² working resolution), `pack_features`
(raw maps → the 16 maps the embedding stores) and `PromptHead` (stored maps + one click or box per
prompt → 4 mask logits + 4 predicted IoUs). `export.py` wraps them in SAM's input/output names;
`train.py` trains them.

Design (why it is shaped like this):
- Everything is decided at 256², the resolution of SAM's `low_res_masks`: one working pixel is a
  4×4 block of the 1024² SAM frame. The 16 stored maps of 256² are packed row-major into the
  [256, 64, 64] embedding (a reshape, no data movement), so the decoder reads full-detail maps
  without any learned upsampling per prompt.
- Raw channels 0–5 (F) describe appearance ("what kind of thing is here"), channels 6–10 (E) are an
  instance embedding: channels 6 and 7 are trained as offsets to the object's centre in units of
  32 px (spatial embeddings, Neven et al. CVPR 2019), so pixels of one object share one
  E + coordinate value and touching objects of equal intensity still come apart.
- The per-prompt work is deliberately tiny (SAM's split: prompt-independent work in the encoder):
  a 2-layer MLP on the features under the click gives per-token weights, and each token's logit
  map is a linear read of F minus a weighted squared distance in embedding space, minus a
  distance prior; with e and e² stored that is one MatMul over the 16 maps per prompt.
- Tokens: 0 = single-mask answer (the object), 1 = the object, 2 = the object with what touches
  it, 3 = a larger region (the cluster it belongs to). The IoU head predicts each mask's IoU with
  the clicked object from prompt features and (detached) statistics of the mask itself.

Shapes: B crops, K prompts per crop, H×W working pixels (256×256 at inference).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

APPEARANCE = 6  # raw channels 0..5: appearance
EMBED = 5  # raw channels 6..10: instance embedding; the first two are centre offsets (units of COORD_UNIT px)
RAW = APPEARANCE + EMBED  # what the network computes per working pixel
FEATURES = APPEARANCE + 2 * EMBED  # what the embedding stores per working pixel: F, e = E + coordinates, e²
COORD_UNIT = 32.0
TOKENS = 4
PAD_GREY = (123.675 + 116.28 + 103.53) / 3  # SAM pads with zeros after normalising: the mean colour
GREY_MEAN, GREY_STD = 114.5, 58.0  # fixed input scale of the network (grey levels 0–255 after the host's stretch)
QUERY_IN = RAW + 3  # raw features under the click + [box-only flag, log box width, log box height]
PARAMS_PER_TOKEN = APPEARANCE + 1 + EMBED + 1  # A (read of F), bias, embedding weights, distance-prior weight
BOX_PENALTY = 0.5  # logit per working pixel outside a box prompt


def norm(c):
    """GroupNorm, not BatchNorm: statistics per image, the same in training (batches of crops from
    different sets and intensity augmentations) and at inference (one frame). With BatchNorm the
    running averages fitted no single image (measured: emps click IoU 0.12 in eval mode vs 0.52
    with per-image statistics)."""
    return nn.GroupNorm(max(1, c // 8), c)


def conv_norm(cin, cout, k=1, stride=1, groups=1, dilation=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, padding=dilation * (k // 2), dilation=dilation, groups=groups, bias=False),
              norm(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1×1 expand, 3×3 depthwise (optionally dilated), 1×1 project, residual."""

    def __init__(self, c, expand=2, dilation=1):
        super().__init__()
        h = c * expand
        self.body = nn.Sequential(conv_norm(c, h), conv_norm(h, h, 3, groups=h, dilation=dilation), conv_norm(h, c, act=False))

    def start_as_identity(self):
        """Zero the projection's GroupNorm scale and shift: the block adds nothing until trained (a block
        added to a trained network then continues from the function the network had)."""
        nn.init.zeros_(self.body[-1][1].weight)
        nn.init.zeros_(self.body[-1][1].bias)
        self.starts_at_zero = True
        return self

    def forward(self, x):
        return x + self.body(x)


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.body = nn.Sequential(conv_norm(cin, cin, 3, stride=2, groups=cin), conv_norm(cin, cout))

    def forward(self, x):
        return self.body(x)


class Up(nn.Module):
    """Bilinear ×2, concatenate the skip, fuse with a 1×1, refine with one block."""

    def __init__(self, cin, cskip, cout):
        super().__init__()
        self.fuse = conv_norm(cin + cskip, cout)
        self.block = InvertedResidual(cout)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode='bilinear', align_corners=False)
        return self.block(self.fuse(torch.cat([x, skip], 1)))


class Encoder(nn.Module):
    """Grey image [B,1,s·H,s·W] (0–255) → raw features [B,11,H,W] at working resolution; H, W multiples
    of 16. s = `input_scale`: 1 reads the working grid only (each working pixel the mean of a 4×4
    block of the 1024² frame); 4 (`detail=True`) reads the frame's own pixels too.

    Why the detail branch: at s = 1 an object under ~8 working pixels (a 30 px nucleus in a 1200 px
    image) is a few averaged values, and clicks on such objects failed whatever the training. The
    branch (two stride-2 convolutions, 1024² → 256², and a 1×1) adds what the 4×4 mean hides to the stem's
    features. Its last convolution starts at zero, so a network trained without it continues from
    exactly the function it had (`--init-from`).

    `stem_blocks` > 1 adds blocks at the 256² level, where small objects are decided: to the stem,
    and as many to the last up stage (`u0_extra`). The added blocks start as the identity, as the
    detail branch starts at zero, so `--init-from` a model with fewer blocks continues from its
    function. With the defaults the module and its state dict are those of every model trained
    before the option existed."""

    def __init__(self, widths=(16, 32, 64, 96, 128), detail=False, stem_blocks=1):
        super().__init__()
        w0, w1, w2, w3, w4 = widths
        self.input_scale = 4 if detail else 1
        if stem_blocks < 1:
            raise ValueError(f'stem_blocks {stem_blocks}: expected 1 or more')
        self.stem = nn.Sequential(conv_norm(1, w0, 3), InvertedResidual(w0), *[InvertedResidual(w0).start_as_identity() for _ in range(stem_blocks - 1)])
        self.detail = None
        if detail:
            self.detail = nn.Sequential(conv_norm(1, w0, 3, stride=2), conv_norm(w0, w0, 3, stride=2, groups=w0), conv_norm(w0, w0),
                                        nn.Conv2d(w0, w0, 1))
            nn.init.zeros_(self.detail[-1].weight)
            nn.init.zeros_(self.detail[-1].bias)
            self.detail.starts_at_zero = True
        self.d1 = nn.Sequential(Down(w0, w1), InvertedResidual(w1))
        self.d2 = nn.Sequential(Down(w1, w2), InvertedResidual(w2), InvertedResidual(w2))
        self.d3 = nn.Sequential(Down(w2, w3), InvertedResidual(w3), InvertedResidual(w3, dilation=2))
        self.d4 = nn.Sequential(Down(w3, w4), InvertedResidual(w4), InvertedResidual(w4, dilation=2), InvertedResidual(w4, dilation=4))
        self.u3 = Up(w4, w3, w3)
        self.u2 = Up(w3, w2, w2)
        self.u1 = Up(w2, w1, w1)
        self.u0 = Up(w1, w0, w0 * 2)
        self.u0_extra = nn.Sequential(*[InvertedResidual(w0 * 2).start_as_identity() for _ in range(stem_blocks - 1)])
        self.head = nn.Conv2d(w0 * 2, RAW, 3, padding=1)
        # Dense auxiliary heads (training only): foreground from F, centre offsets are E[0:2] themselves.
        self.fg = nn.Conv2d(APPEARANCE, 1, 1)
        # State-dict prefixes of the parts built above to start at zero (marked where they are built).
        self.zero_start_prefixes = tuple(name + '.' for name, module in self.named_modules() if getattr(module, 'starts_at_zero', False))

    def starts_as_identity(self, key):
        """True for a state-dict key of a part that starts as the identity or at zero (the detail
        branch, the added 256² blocks): a model without it can be the start of one with it."""
        return key.startswith(self.zero_start_prefixes)

    def forward(self, grey):
        full = (grey - GREY_MEAN) / GREY_STD
        x = F.avg_pool2d(full, self.input_scale) if self.input_scale > 1 else full
        s0 = self.stem(x)
        if self.detail is not None:
            s0 = s0 + self.detail(full)
        s1 = self.d1(s0)
        s2 = self.d2(s1)
        s3 = self.d3(s2)
        s4 = self.d4(s3)
        y = self.u3(s4, s3)
        y = self.u2(y, s2)
        y = self.u1(y, s1)
        y = self.u0_extra(self.u0(y, s0))
        return self.head(y)


def pack_features(raw):
    """Raw network output [B,11,H,W] → the 16 stored maps [B,16,H,W]: F (6), e (5), e² (5), where
    e = E + (x/32, y/32, 0, 0, 0) with x, y the working-pixel coordinates of the crop or frame.

    Why: the decoder's embedding distance Σ w_m (e_m(p) − e_m(c))² expands into terms linear in e
    and e², so with e and e² stored, every token's logit map is ONE MatMul over the 16 stored maps
    plus a separable distance prior: the per-prompt cost stays near the size of its output."""
    _, _, h, w = raw.shape
    xs = (torch.cumsum(torch.ones_like(raw[0, 0, 0]), 0) - 1) / COORD_UNIT
    ys = (torch.cumsum(torch.ones_like(raw[0, 0, :, 0]), 0) - 1) / COORD_UNIT
    ex = raw[:, APPEARANCE:APPEARANCE + 1] + xs.view(1, 1, 1, w)
    ey = raw[:, APPEARANCE + 1:APPEARANCE + 2] + ys.view(1, 1, h, 1)
    e = torch.cat([ex, ey, raw[:, APPEARANCE + 2:]], 1)
    return torch.cat([raw[:, :APPEARANCE], e, e * e], 1)


def bilinear_read(maps, cx, cy):
    """maps [B,C,H,W], click index coordinates cx, cy [B,K] → [B,K,C] (bilinear, clamped). Training path."""
    _, _, h, w = maps.shape
    xs = torch.arange(w, dtype=maps.dtype)
    ys = torch.arange(h, dtype=maps.dtype)
    wx = torch.relu(1 - (xs.view(1, 1, w) - cx.clamp(0, w - 1).unsqueeze(-1)).abs())  # [B,K,W]
    wy = torch.relu(1 - (ys.view(1, 1, h) - cy.clamp(0, h - 1).unsqueeze(-1)).abs())  # [B,K,H]
    rows = torch.einsum('bchw,bkw->bkch', maps, wx)
    return torch.einsum('bkch,bkh->bkc', rows, wy)


def raw_at_click(packed_at_click, cx, cy):
    """Stored maps read at the click [B,K,16] → the raw features there [B,K,11] (coordinates removed),
    so the query MLP never sees absolute positions (training crops and inference frames differ)."""
    f = packed_at_click[..., :APPEARANCE]
    e = packed_at_click[..., APPEARANCE:APPEARANCE + EMBED]
    return torch.cat([f, e[..., :1] - cx.unsqueeze(-1) / COORD_UNIT, e[..., 1:2] - cy.unsqueeze(-1) / COORD_UNIT, e[..., 2:]], -1)


class PromptHead(nn.Module):
    """Per-prompt decoder: stored maps [B,16,H,W] + prompts → logits [B,K,4,H,W], predicted IoU [B,K,4].

    Prompts: click index coordinates cx, cy [B,K] (working pixels), box [B,K,4] (x0,y0,x1,y1 in
    working pixels), has_box [B,K] (1 where a box constrains the prompt), box_only [B,K] (1 where
    the prompt is a box without a point: the click is then the box centre). `at_click` [B,K,16]:
    the stored maps at the click, when the caller read them itself (the ONNX decoder gathers 2×2).

    Token k's logit at pixel p: A_k·F(p) + b_k − Σ_m w_km (e_m(p) − e_m(c))² − v_k·|p − c|²/32²,
    with A, b, w ≥ 0, v ≥ 0 from an MLP of the raw features under the click."""

    def __init__(self, hidden=64):
        super().__init__()
        self.query = nn.Sequential(nn.Linear(QUERY_IN, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                   nn.Linear(hidden, TOKENS * PARAMS_PER_TOKEN))
        self.iou = nn.Sequential(nn.Linear(QUERY_IN + TOKENS * 4, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, TOKENS))

    def forward(self, maps, cx, cy, box, has_box, box_only, at_click=None, mask_input=None, blend=None):
        """`mask_input` [B,1,H,W] and `blend` (a scalar tensor, 0 or 0.5; export only): the logits become
        (1 − blend)·logits + blend·mask_input, and the IoU head describes that blended mask."""
        b, _, h, w = maps.shape
        k = cx.shape[1]
        if at_click is None:
            at_click = bilinear_read(maps, cx, cy)
        q = raw_at_click(at_click, cx, cy)  # [B,K,11]
        bw = (box[..., 2] - box[..., 0]).clamp(min=1)
        bh = (box[..., 3] - box[..., 1]).clamp(min=1)
        size = torch.stack([torch.log(bw / COORD_UNIT), torch.log(bh / COORD_UNIT)], -1) * has_box.unsqueeze(-1)
        qin = torch.cat([q, box_only.unsqueeze(-1), size], -1)  # [B,K,14]
        p = self.query(qin).view(b, k, TOKENS, PARAMS_PER_TOKEN)
        a = p[..., :APPEARANCE]
        bias = p[..., APPEARANCE]
        we = F.softplus(p[..., APPEARANCE + 1:APPEARANCE + 1 + EMBED])
        wd = F.softplus(p[..., -1])
        e_click = at_click[..., APPEARANCE:APPEARANCE + EMBED].unsqueeze(2)  # [B,K,1,E]
        # Σ we (e − e_c)² = Σ we·e² − 2 Σ (we·e_c)·e + Σ we·e_c²: one weight row over the 16 stored maps.
        weights = torch.cat([a, 2 * we * e_click, -we], -1)  # [B,K,T,16]
        const = bias - (we * e_click * e_click).sum(-1)  # [B,K,T]
        # The constant, the distance prior v·(dx² + dy²) and the box penalty (outside_x + outside_y) are
        # each a sum of a term per column and a term per row, so they reach the logits as two broadcast
        # additions of small [T,W] and [T,H] tables instead of several passes over [T,H,W] maps: the
        # ONNX decoder's per-prompt cost is mostly such passes.
        xs = torch.cumsum(torch.ones_like(maps[0, 0, 0]), 0) - 1
        ys = torch.cumsum(torch.ones_like(maps[0, 0, :, 0]), 0) - 1
        dx = (xs.view(1, 1, w) - cx.unsqueeze(-1)) / COORD_UNIT  # [B,K,W]
        dy = (ys.view(1, 1, h) - cy.unsqueeze(-1)) / COORD_UNIT  # [B,K,H]
        penalty = (BOX_PENALTY * has_box).unsqueeze(-1)  # [B,K,1]
        outside_x = (torch.relu(box[..., 0:1] - xs.view(1, 1, w)) + torch.relu(xs.view(1, 1, w) - box[..., 2:3])) * penalty
        outside_y = (torch.relu(box[..., 1:2] - ys.view(1, 1, h)) + torch.relu(ys.view(1, 1, h) - box[..., 3:4])) * penalty
        per_column = const.unsqueeze(-1) - wd.unsqueeze(-1) * (dx * dx).unsqueeze(2) - outside_x.unsqueeze(2)  # [B,K,T,W]
        per_row = -wd.unsqueeze(-1) * (dy * dy).unsqueeze(2) - outside_y.unsqueeze(2)  # [B,K,T,H]
        if mask_input is not None:
            keep = 1 - blend  # scales the small tables and weights, not the [T,H,W] logits
            weights, per_column, per_row = weights * keep, per_column * keep, per_row * keep
        logits = torch.bmm(weights.reshape(b, k * TOKENS, FEATURES), maps.reshape(b, FEATURES, h * w)).view(b, k, TOKENS, h, w)
        logits = logits + per_column.unsqueeze(-2) + per_row.unsqueeze(-1)
        if mask_input is not None:
            logits = logits + (blend * mask_input).view(b, 1, 1, h, w)
        return logits, self.predict_iou(qin, logits)

    def predict_iou(self, qin, logits):
        """Predicted IoU from the prompt's features and detached statistics of each token's mask."""
        with torch.no_grad():
            prob = torch.sigmoid(logits)
            soft = prob.sum((-1, -2))
            hard = (logits > 0).to(logits.dtype).sum((-1, -2))
            fuzz = soft - (prob * prob).sum((-1, -2))
            inside = (prob * logits.clamp(-20, 20)).sum((-1, -2)) / (soft + 1)
            stats = torch.stack([torch.log1p(soft), torch.log1p(hard), fuzz / (soft + 1), inside / 10], -1)
        b, k = qin.shape[:2]
        return torch.sigmoid(self.iou(torch.cat([qin, stats.view(b, k, -1)], -1)))


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())
