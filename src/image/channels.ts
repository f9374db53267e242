import { allocateLike, type RawImage } from './samples.js';

/**
 * Drop the alpha channel (grey+alpha → grey, RGBA → RGB). Alpha in microscopy
 * files is an export artefact, never signal, so it is not kept or composited.
 */
export function dropAlpha(raw: RawImage): RawImage {
  if (raw.channels !== 2 && raw.channels !== 4) return raw;
  const keep = raw.channels - 1;
  const n = raw.width * raw.height;
  const out = allocateLike(raw.data, n * keep);
  const src = raw.data;
  for (let p = 0, i = 0, o = 0; p < n; p++, i += raw.channels) {
    for (let c = 0; c < keep; c++) out[o++] = src[i + c];
  }
  return { width: raw.width, height: raw.height, channels: keep, data: out };
}

/**
 * RGB whose three channels are equal at every pixel → one grey channel.
 * Many datasets (DSB2018 among them) store grey images as RGB; treating them as
 * grey keeps the hash, the stretch and the features identical to the grey file.
 */
export function collapseEqualChannels(raw: RawImage): RawImage {
  if (raw.channels !== 3) return raw;
  const src = raw.data;
  const n = raw.width * raw.height;
  for (let i = 0; i < n * 3; i += 3) {
    const r = src[i];
    // Object.is-free comparison is fine: NaN channels make the image colour, which is the safe side.
    if (src[i + 1] !== r || src[i + 2] !== r) return raw;
  }
  const out = allocateLike(src, n);
  for (let p = 0, i = 0; p < n; p++, i += 3) out[p] = src[i];
  return { width: raw.width, height: raw.height, channels: 1, data: out };
}
