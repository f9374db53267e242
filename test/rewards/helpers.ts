export { cropWindow, segmentationFromLabels } from '../../src/measure/segmentation-from-labels.js';
