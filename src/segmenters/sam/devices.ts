import { SamstarError, suggestName } from '../../util/errors.js';

/**
 * The devices `--device` and `segmenter.device` accept. Kept apart from
 * providers.ts (which loads onnxruntime) so that the CLI can list them without
 * loading the runtime.
 */
export const DEVICES = ['cpu', 'cuda', 'tensorrt', 'coreml', 'dml'] as const;
export type Device = (typeof DEVICES)[number];

/** The device named by a flag or config value, refused with the known names when unknown. */
export function parseDevice(value: string, where = '--device'): Device {
  if ((DEVICES as readonly string[]).includes(value)) return value as Device;
  throw new SamstarError('ARGUMENT_INVALID', `${where}: unknown device "${value}" (known: ${DEVICES.join(', ')})`, { hint: suggestName(value, DEVICES) });
}

