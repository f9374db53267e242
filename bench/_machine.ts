import { cpus, totalmem } from 'node:os';

/** One line saying where the figures were measured. */
export function machineLine(): string {
  const cpu = cpus();
  return `machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function peakRssMb(): number {
  // resourceUsage().maxRSS is in kilobytes.
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * The drifting streams of the policy benches (counts are per 128² and scale with the area):
 * - `fading`: particles grow from 7 to 22 px while their contrast fades from 0.6 to 0.15, 12 per
 *   frame. The best filter knobs barely move along this drift (`bench headroom`).
 * - `ripening`: Ostwald ripening — 60 particles of 6 px become 8 of 22 px while the contrast falls
 *   from 0.6 to 0.3. The best filter knobs do move along it.
 * Each comes with the physics reward that suits it (terms shape, coverage, overlap, edge, contrast).
 */
export const DRIFTS = {
  fading: {
    stream: { count: 12, diameter: { median: 7, sigma: 0.2, min: 3 }, contrast: 0.6, drift: { diameter: 22, contrast: 0.15 } as { diameter: number; contrast: number; count?: number } },
    total: '0.3*shape + 0.5*coverage - 0.2*overlap',
  },
  ripening: {
    stream: { count: 60, diameter: { median: 6, sigma: 0.2, min: 3 }, contrast: 0.6, drift: { count: 8, diameter: 22, contrast: 0.3 } as { diameter: number; contrast: number; count?: number } },
    total: '0.3*shape + 0.3*coverage + 0.2*edge + 0.2*contrast - 0.2*overlap',
  },
} as const;
export type DriftName = keyof typeof DRIFTS;

/**
 * `--stream fading|ripening` picks a drift (else the bench's own default); `--stream JSON` patches the
 * default one, merging objects one level deep (e.g. '{"contrast":0.8,"drift":{"contrast":0.05}}').
 */
export function driftName(args: readonly string[], fallback: DriftName): DriftName {
  const value = strArg([...args], 'stream', fallback);
  return value in DRIFTS ? (value as DriftName) : fallback;
}

export function driftingStream(size: number, args: readonly string[] = [], fallback: DriftName = 'fading') {
  const preset = DRIFTS[driftName(args, fallback)].stream;
  const scale = (size * size) / (128 * 128);
  const base = {
    width: size,
    height: size,
    ...preset,
    count: Math.round(preset.count * scale),
    drift: { ...preset.drift, ...(preset.drift.count === undefined ? {} : { count: Math.round(preset.drift.count * scale) }) },
  };
  const value = strArg([...args], 'stream', '');
  if (!value.startsWith('{')) return base;
  const patch = JSON.parse(value) as Partial<typeof base>;
  return { ...base, ...patch, diameter: { ...base.diameter, ...patch.diameter }, drift: { ...base.drift, ...patch.drift } };
}

/** One line describing a drifting stream. */
export function describeStream(stream: ReturnType<typeof driftingStream>): string {
  const count = stream.drift.count === undefined ? `${stream.count}` : `${stream.count} → ${stream.drift.count}`;
  return `${stream.width}×${stream.height} frames, ${count} particles, diameter ${stream.diameter.median} → ${stream.drift.diameter} px, contrast ${stream.contrast} → ${stream.drift.contrast}`;
}

/** `--name N` from the command line, else the fallback. */
export function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/** `--name VALUE` from the command line, else the fallback. */
export function strArg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}
