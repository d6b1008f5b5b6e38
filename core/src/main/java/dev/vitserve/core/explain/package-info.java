/**
 * Explanations of a classification: where the model looked, as a heatmap over the image it saw (attention rollout
 * from the same engine run, or occlusion through the same scheduler), a small unit over the classification pipeline.
 */
package dev.vitserve.core.explain;
