import type { RawData, WebSocket } from 'ws';
import { frameInput, isEncodedType, RAW_TYPE } from './decode-body.js';
import { describeError, ServeError, type ErrorBody } from './errors.js';
import type { Outcome, FrameService } from './service.js';

/**
 * The /v1/stream protocol (one WebSocket per acquisition loop).
 *
 * Client → server, either form:
 *  - one binary message: [u32 little-endian n][n bytes of UTF-8 JSON header][image bytes], or
 *  - a text message with the JSON header, then a binary message with the image bytes.
 * Header: { "id"?: string | number, "format"?: "png" | "tiff" | "jpeg" | "raw",
 *           "width", "height", "dtype" ("uint8" | "uint16" | "float32"), "channels" (raw only),
 *           "labels"?: "png" }. `format` defaults to "raw" when `width` is given, else an
 * encoded image (PNG/TIFF/JPEG, recognised from its bytes).
 *
 * Server → client, one text message per frame, in the order the frames were sent:
 *  { "type": "result", ...the POST /v1/segment JSON..., "dropped": { ids, count, total } }
 *  { "type": "error", id, seq, error: { code, message, hint? }, dropped }
 * and after a result whose header asked for `labels: "png"`, one binary message: the 16-bit label PNG
 * (none when the frame has more than 65 535 instances: the result's `labels_png` then says why).
 * Frames dropped unprocessed (a newer frame arrived while they waited: latest frame wins) get no
 * message of their own: their ids are in `dropped.ids` of the next message, `dropped.total` counts
 * every drop on this stream so far.
 */
export const STREAM_PROTOCOL = 'samstar-stream-1';

/** Largest JSON header in the one-message form. */
const MAX_HEADER_BYTES = 64 * 1024;
/** Answers owed to one stream before the server gives up on it (it floods invalid frames). */
const MAX_OUTSTANDING = 1024;
/** Unsent bytes to a client that does not read before the server closes the stream. */
const MAX_BUFFERED = 64 * 2 ** 20;

interface Slot {
  readonly id: string | number;
  readonly seq: number;
  /** The answer, once there is one. */
  text?: string;
  binary?: Uint8Array;
  done: boolean;
}

interface StreamHeader {
  readonly id?: string | number;
  readonly format?: string;
  readonly width?: unknown;
  readonly height?: unknown;
  readonly dtype?: unknown;
  readonly channels?: unknown;
  readonly labels?: unknown;
}

const FORMAT_TYPES: Record<string, string> = { png: 'image/png', tiff: 'image/tiff', tif: 'image/tiff', jpeg: 'image/jpeg', jpg: 'image/jpeg', raw: RAW_TYPE };

let connections = 0;

export class StreamConnection {
  private readonly name = `stream${++connections}`;
  private readonly outbox: Slot[] = [];
  private readonly dropped: { id: string | number; seq: number }[] = [];
  private droppedTotal = 0;
  private pendingHeader: StreamHeader | null = null;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly service: FrameService,
    private readonly isClosing: () => boolean,
  ) {
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.onClose());
    socket.on('error', () => this.onClose());
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.service.scheduler.closeStream(this);
  }

  private onMessage(raw: RawData, isBinary: boolean): void {
    const data = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    if (this.isClosing()) {
      this.answerNow(this.service.nextSeq(), undefined, new ServeError(503, 'SHUTTING_DOWN', 'the server is shutting down'));
      return;
    }
    if (!isBinary) {
      // Text: the header of the next binary message.
      if (this.pendingHeader) {
        this.answerNow(this.service.nextSeq(), this.pendingHeader.id, new ServeError(400, 'BAD_REQUEST', 'two headers in a row: a text header must be followed by a binary message with the image'));
      }
      try {
        this.pendingHeader = parseHeader(data);
      } catch (error) {
        this.pendingHeader = null;
        this.answerNow(this.service.nextSeq(), undefined, error);
      }
      return;
    }
    const seq = this.service.nextSeq();
    let header: StreamHeader;
    let payload: Uint8Array;
    try {
      if (this.pendingHeader) {
        header = this.pendingHeader;
        payload = data;
      } else {
        if (data.length < 4) throw new ServeError(400, 'BAD_REQUEST', `a binary frame of ${data.length} bytes is too short for its header`, framingHint());
        const n = data.readUInt32LE(0);
        if (n > MAX_HEADER_BYTES || n > data.length - 4) {
          throw new ServeError(400, 'BAD_REQUEST', `the binary frame says its JSON header is ${n} bytes, but ${n > MAX_HEADER_BYTES ? `headers are at most ${MAX_HEADER_BYTES}` : `only ${data.length - 4} bytes follow`}`, framingHint());
        }
        header = parseHeader(data.subarray(4, 4 + n));
        payload = data.subarray(4 + n);
      }
    } catch (error) {
      this.answerNow(seq, undefined, error);
      return;
    } finally {
      this.pendingHeader = null;
    }
    this.submit(seq, header, payload);
  }

  private submit(seq: number, header: StreamHeader, payload: Uint8Array): void {
    const arrived = performance.now();
    const id = header.id ?? seq;
    let input;
    try {
      const format = header.format ?? (header.width !== undefined ? 'raw' : 'png');
      const type = FORMAT_TYPES[String(format).toLowerCase()];
      if (!type) {
        throw new ServeError(415, 'UNSUPPORTED_MEDIA_TYPE', `format "${String(format)}" is not one samstar reads`, `use one of ${Object.keys(FORMAT_TYPES).join(', ')}`);
      }
      if (header.labels !== undefined && header.labels !== 'png') {
        throw new ServeError(400, 'BAD_REQUEST', `labels = ${JSON.stringify(header.labels)}: the only label format is "png"`);
      }
      input = frameInput(isEncodedType(type) ? type : RAW_TYPE, header, payload, `${this.name}:${String(id)}`, this.service.limits, '');
    } catch (error) {
      this.answerNow(seq, id, error);
      return;
    }
    const slot: Slot = { id, seq, done: false };
    if (!this.push(slot)) return;
    const service = this.service;
    service.scheduler.submitStream(this, {
      run: async () => {
        const outcome = await service.execute({ mode: 'stream', id, seq, arrived, labels: header.labels === 'png', frame: service.startDecode(input) });
        this.fill(slot, outcome);
      },
      drop: (reason) => {
        const index = this.outbox.indexOf(slot);
        if (index >= 0) this.outbox.splice(index, 1);
        if (reason === 'replaced') {
          this.dropped.push({ id, seq });
          this.droppedTotal++;
          service.metrics.dropped++;
        }
        this.flush();
      },
    });
  }

  private push(slot: Slot): boolean {
    if (this.outbox.length >= MAX_OUTSTANDING) {
      this.socket.close(1008, `more than ${MAX_OUTSTANDING} frames awaiting answers`);
      return false;
    }
    this.outbox.push(slot);
    return true;
  }

  /** An answer that needs no processing (a malformed frame): sent in order with the others. */
  private answerNow(seq: number, id: string | number | undefined, error: unknown): void {
    const described = describeError(error);
    const slot: Slot = { id: id ?? seq, seq, done: false };
    if (!this.push(slot)) return;
    this.service.metrics.frames.stream.error++;
    this.fill(slot, { ok: false, status: described.status, error: described.body, id: slot.id, seq });
  }

  private fill(slot: Slot, outcome: Outcome): void {
    slot.done = true;
    if (outcome.ok) {
      slot.text = JSON.stringify({ type: 'result', ...outcome.json, ...(outcome.labelsPng ? { labels_png: true } : {}), dropped: null });
      slot.binary = outcome.labelsPng;
    } else {
      slot.text = JSON.stringify(errorMessage(outcome.id, outcome.seq, outcome.error));
    }
    this.flush();
  }

  /** Send every answer at the head of the outbox that is ready, in order. */
  private flush(): void {
    while (this.outbox.length > 0 && this.outbox[0].done) {
      const slot = this.outbox.shift()!;
      if (this.closed || this.socket.readyState !== this.socket.OPEN) continue;
      const ids: (string | number)[] = [];
      while (this.dropped.length > 0 && this.dropped[0].seq < slot.seq) ids.push(this.dropped.shift()!.id);
      const dropped = JSON.stringify({ ids, count: ids.length, total: this.droppedTotal });
      // The message was built with "dropped":null last; fill it in without re-serialising the result.
      const text = slot.text!.endsWith('"dropped":null}') ? `${slot.text!.slice(0, -5)}${dropped}}` : slot.text!;
      if (this.socket.bufferedAmount > MAX_BUFFERED) {
        this.socket.close(1008, 'the client does not read its answers');
        return;
      }
      this.socket.send(text);
      if (slot.binary) this.socket.send(slot.binary, { binary: true });
    }
  }
}

function errorMessage(id: string | number, seq: number, error: ErrorBody): Record<string, unknown> {
  return { type: 'error', id, seq, error, dropped: null };
}

function framingHint(): string {
  return 'send [u32 little-endian header length][JSON header][image bytes] as one binary message, or the JSON header as a text message followed by the image as a binary message';
}

function parseHeader(bytes: Uint8Array): StreamHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new ServeError(400, 'BAD_REQUEST', `the frame header is not JSON (${(error as Error).message})`, framingHint());
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ServeError(400, 'BAD_REQUEST', 'the frame header must be a JSON object', framingHint());
  }
  const header = parsed as StreamHeader;
  if (header.id !== undefined && typeof header.id !== 'string' && typeof header.id !== 'number') {
    throw new ServeError(400, 'BAD_REQUEST', `header id must be a string or a number, got ${JSON.stringify(header.id)}`);
  }
  return header;
}

