/** `samstar serve`: the live segmentation service (HTTP + WebSocket API and a browser viewer). */
export { startServer, isLoopback, DEFAULTS as SERVE_DEFAULTS, type ServeHandle, type ServeOptions } from './server.js';
export { checkExposure, generateToken } from './guard.js';
export { FixedKnobChooser, PolicyKnobChooser, loadKnobChooser, policySegmenter, type KnobChooser, type ChooserInput } from './knob-chooser.js';
export { loadServeSegmenter, serveCacheBudgets, SERVE_CACHE_MB } from './segmenter.js';
export { encodeLabelPng } from '../masks/label-png.js';
export { STREAM_PROTOCOL } from './stream.js';
export type { SegmentResultJson, TimingsJson } from './pipeline.js';
export type { ErrorBody, ServeErrorCode } from './errors.js';
