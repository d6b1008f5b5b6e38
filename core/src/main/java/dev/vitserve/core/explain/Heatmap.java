package dev.vitserve.core.explain;

/**
 * Relevance per grid cell, row-major.
 *
 * @param grid the cells
 * @param values the method's own numbers: rollout's attention mass, occlusion's drop of the target's probability
 *     (negative where hiding the cell raised it)
 * @param scaled in [0, 1]: negatives clamped to 0, then divided by the largest (all 0 when none is positive)
 */
public record Heatmap(Grid grid, float[] values, float[] scaled) {

    /** A heatmap of raw values, scaled as the record says. */
    public static Heatmap of(Grid grid, float[] values) {
        if (values.length != grid.cells()) {
            throw new IllegalArgumentException(values.length + " values for a " + grid + " grid");
        }
        float top = 0;
        for (float v : values) {
            top = Math.max(top, v);
        }
        float[] scaled = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            scaled[i] = top > 0 ? Math.max(0, values[i]) / top : 0;
        }
        return new Heatmap(grid, values, scaled);
    }
}
