import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadSamSegmenter } from '../src/segmenters/load-segmenter.js';
import type { Device } from '../src/segmenters/sam/devices.js';
import type { PlainSegmenterOptions } from '../src/segmenters/definition.js';
import { loadSegmenter, rebuildOf, SEGMENTER_NAMES } from '../src/segmenters/registry.js';
import type { Segmenter } from '../src/segmenters/types.js';
import { SamstarError } from '../src/util/errors.js';

/**
 * How to build a segmenter somewhere else (in a worker thread, later on another
 * machine): plain data, unlike a Segmenter object with live ONNX sessions.
 *
 *  - `segmenter`: any registered segmenter (src/segmenters/registry.ts) by
 *    name, with its plain options (model files, threads, device, cache
 *    budgets), built by the registry's loadSegmenter;
 *  - `sam`: the SAM segmenter on the given ONNX files (the default bundled
 *    model when absent): the older form of `{ kind: 'segmenter', name: 'sam' }`;
 *  - `module`: any segmenter: `module` (a path or file URL) exports a factory
 *    `export` (default "createSegmenter") called as `await factory(options)`.
 */
export type SegmenterSpec =
  | { readonly kind: 'segmenter'; readonly name: string; readonly options?: PlainSegmenterOptions }
  | {
      readonly kind: 'sam';
      readonly encoder?: string;
      readonly decoder?: string;
      readonly intraOpThreads?: number;
      readonly device?: Device;
      readonly embeddingCacheBytes?: number;
      readonly proposalCacheBytes?: number;
    }
  | { readonly kind: 'module'; readonly module: string; readonly export?: string; readonly options?: unknown };

/** The spec that rebuilds this segmenter, when it is a registered one (its definition says how). */
export function segmenterSpecOf(segmenter: Segmenter): SegmenterSpec | undefined {
  const rebuild = rebuildOf(segmenter);
  return rebuild ? { kind: 'segmenter', name: rebuild.name, options: rebuild.options } : undefined;
}

export async function createSegmenter(spec: SegmenterSpec): Promise<Segmenter> {
  if (spec.kind === 'segmenter') return loadSegmenter(spec.name, spec.options ?? {});
  if (spec.kind === 'sam') {
    const { kind: _kind, ...choice } = spec;
    return loadSamSegmenter(choice);
  }
  if (spec.kind === 'module') {
    const url = spec.module.startsWith('file:') ? spec.module : pathToFileURL(isAbsolute(spec.module) ? spec.module : resolve(spec.module)).href;
    const mod = (await import(url)) as Record<string, unknown>;
    const name = spec.export ?? 'createSegmenter';
    const factory = mod[name];
    if (typeof factory !== 'function') {
      throw new SamstarError('ARGUMENT_INVALID', `segmenter module ${spec.module} has no exported function "${name}"`, {
        hint: `export async function ${name}(options) returning a Segmenter`,
      });
    }
    return (await (factory as (options: unknown) => Promise<Segmenter> | Segmenter)(spec.options)) as Segmenter;
  }
  throw new SamstarError('ARGUMENT_INVALID', `unknown segmenter spec kind ${JSON.stringify((spec as { kind?: unknown }).kind)} (known: segmenter (${SEGMENTER_NAMES.join(', ')}), sam, module)`);
}
