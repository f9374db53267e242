import sharp from 'sharp';
import type { WebSocket } from 'ws';
import type { Frame } from '../image/frame.js';
import { renderOverlayRgb } from '../image/overlay.js';
import type { LabelImage } from '../masks/types.js';
import { segmentationLabels } from '../segment/outputs.js';
import type { Segmentation } from '../segmenters/types.js';

/** One processed frame as the viewer shows it. */
export interface ViewerItem {
  readonly frame: Frame;
  readonly segmentation: Segmentation;
  /** Already computed labels, if any (else computed here, only when a viewer watches). */
  readonly labels?: LabelImage;
  /** JSON-able statistics for the page (count, sizes, knobs, latency…). */
  readonly stats: Record<string, unknown>;
}

interface Viewer {
  readonly socket: WebSocket;
  paused: boolean;
}

/** Longest side of the overlay images sent to viewers (larger frames are scaled down). */
const MAX_SIDE = 1024;
/** A viewer that lags this far behind gets frames skipped rather than queued. */
const MAX_BUFFERED = 8 * 2 ** 20;

/**
 * The viewers of `GET /`: each processed frame's overlay (PNG, outlines over the
 * frame) and statistics go to every connected, unpaused viewer. Rendering runs
 * only while someone watches, one frame at a time, latest frame wins; it never
 * delays segmentation beyond the few milliseconds of drawing outlines.
 */
export class ViewerHub {
  private readonly viewers = new Set<Viewer>();
  private pending: ViewerItem | null = null;
  private rendering = false;
  /** The last rendered frame, for viewers that connect later. */
  private latest: { stats: string; png: Buffer } | null = null;
  /** The last frame not rendered because nobody was watching. */
  private unrendered: ViewerItem | null = null;

  get count(): number {
    return this.viewers.size;
  }

  /** Viewers that want frames now. */
  get active(): number {
    let n = 0;
    for (const v of this.viewers) if (!v.paused) n++;
    return n;
  }

  add(socket: WebSocket): void {
    const viewer: Viewer = { socket, paused: false };
    this.viewers.add(viewer);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      try {
        const message = JSON.parse(String(data)) as { type?: string; paused?: boolean };
        if (message.type === 'pause') {
          viewer.paused = Boolean(message.paused);
          if (!viewer.paused) this.catchUp(viewer);
        }
      } catch {
        // viewers only send small control messages; ignore anything else
      }
    });
    socket.on('close', () => this.viewers.delete(viewer));
    socket.on('error', () => this.viewers.delete(viewer));
    this.catchUp(viewer);
  }

  /** Show a viewer that (re)joins the newest frame: render the one nobody watched, or resend the last. */
  private catchUp(viewer: Viewer): void {
    if (this.unrendered) this.publish(this.unrendered);
    else if (this.latest && !this.rendering) this.sendTo(viewer, this.latest);
  }

  publish(item: ViewerItem): void {
    if (this.active === 0) {
      this.unrendered = item;
      return;
    }
    this.unrendered = null;
    this.pending = item;
    if (!this.rendering) void this.renderLoop();
  }

  closeAll(code: number, reason: string): void {
    for (const v of this.viewers) v.socket.close(code, reason);
    this.viewers.clear();
  }

  private async renderLoop(): Promise<void> {
    this.rendering = true;
    try {
      while (this.pending) {
        const item = this.pending;
        this.pending = null;
        try {
          const png = await renderOverlay(item);
          this.latest = { stats: JSON.stringify({ type: 'frame', ...item.stats }), png };
          for (const v of this.viewers) if (!v.paused) this.sendTo(v, this.latest);
        } catch {
          // a frame the viewer cannot show is skipped; the API answer was already sent
        }
      }
    } finally {
      this.rendering = false;
    }
  }

  private sendTo(viewer: Viewer, message: { stats: string; png: Buffer }): void {
    const socket = viewer.socket;
    if (socket.readyState !== socket.OPEN || socket.bufferedAmount > MAX_BUFFERED) return;
    socket.send(message.stats);
    socket.send(message.png, { binary: true });
  }
}

async function renderOverlay(item: ViewerItem): Promise<Buffer> {
  const { frame } = item;
  const labels = item.labels ?? segmentationLabels(item.segmentation);
  const rgb = renderOverlayRgb(frame, labels);
  let image = sharp(rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } });
  if (Math.max(frame.width, frame.height) > MAX_SIDE) image = image.resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', kernel: 'nearest' });
  return image.png({ compressionLevel: 1 }).toBuffer();
}
