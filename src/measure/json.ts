import type { FrameMeasurement, InstanceMeasurement, Measurements } from './types.js';

/** What `samstar measure --json` prints: the measurements without the crops they came from. */
export interface MeasurementsJson {
  instances: InstanceMeasurement[];
  frame: FrameMeasurement;
}

export function measurementsToJson(measurements: Measurements): MeasurementsJson {
  return { instances: measurements.instances, frame: measurements.frame };
}
