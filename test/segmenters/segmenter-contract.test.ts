import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { describeSegmenterContract } from './contract.js';

describeSegmenterContract('sam (grid prompts)', () => SamSegmenter.load(), { points_per_side: 24, pred_iou_thresh: 0.8, stability_score_thresh: 0.8 });
describeSegmenterContract('sam (blob prompts)', () => SamSegmenter.load(), { prompts: 'blobs', pred_iou_thresh: 0.8, stability_score_thresh: 0.8 });
describeSegmenterContract('blobs', async () => new BlobSegmenter());
