/**
 * Triage stage. Input: per-slice probabilities per model. Output: study scores per model and the
 * ranking score of the site's chosen family; from lesion maps, a bleed-volume estimate.
 */
export * from './aggregate.js';
export * from './ranking.js';
export * from './policy.js';
export * from './volume.js';
