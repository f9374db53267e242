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
 * The drifting stream of `bench policy` and `bench env-train`: particles grow from 7 to 22 px
 * and their contrast fades from 0.6 to 0.15 over the stream; 12 particles per 128² (the count
 * scales with the area).
 */
export function driftingStream(size: number, args: readonly string[] = []) {
  const base = {
    width: size,
    height: size,
    count: Math.round((12 * size * size) / (128 * 128)),
    diameter: { median: 7, sigma: 0.2, min: 3 },
    contrast: 0.6,
    drift: { diameter: 22, contrast: 0.15 } as { diameter: number; contrast: number; count?: number },
  };
  // --stream '{"contrast":0.8,"drift":{"contrast":0.05}}' changes it (objects are merged one level deep).
  const i = args.indexOf('--stream');
  if (i < 0) return base;
  const patch = JSON.parse(args[i + 1]) as Partial<typeof base>;
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
