import { packageVersion } from '../util/package-root.js';
import type { FrameMeasurement, InstanceMeasurement, Measurements } from './types.js';

/** What `samstar measure --json` prints: the measurements without the crops they came from (pixel units; `pixel_size_nm` when known). */
export interface MeasurementsJson {
  samstar_version: string;
  pixel_size_nm?: number;
  instances: InstanceMeasurement[];
  frame: FrameMeasurement;
}

export function measurementsToJson(measurements: Measurements & { readonly pixelSizeNm?: number }): MeasurementsJson {
  return {
    samstar_version: packageVersion(),
    ...(measurements.pixelSizeNm !== undefined ? { pixel_size_nm: measurements.pixelSizeNm } : {}),
    instances: measurements.instances,
    frame: measurements.frame,
  };
}
