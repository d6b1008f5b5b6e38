package dev.vitserve.api.arch;

/**
 * PyTorch's {@code nn.functional.interpolate(mode="bicubic", align_corners=False)} to a given size, as DINOv2's
 * {@code interpolate_pos_encoding} applies it to the grid of position embeddings; computed once at load, in double
 * precision, from the float32 table.
 *
 * <p>Without antialiasing (modeling_dinov2.py): PyTorch's upsample_bicubic2d, cubic convolution with A = -0.75 on the
 * four neighbours of the source coordinate {@code (i + 0.5) * in / out - 0.5}, neighbours outside the grid clamped to
 * its edge. With antialiasing (modeling_dinov2_with_registers.py passes {@code antialias=True}): PyTorch's separable
 * antialiased filter, the Keys cubic with a = -0.5 around the centre {@code (i + 0.5) * in / out}, its support widened
 * by the scale when shrinking, truncated at the grid's edges and normalized to sum 1.
 */
public final class PositionInterpolation {

    private PositionInterpolation() {
    }

    /**
     * Resizes a grid of vectors.
     *
     * @param grid {@code [fromHeight * fromWidth, dim]} row-major: rows of the grid, then columns, then the vector
     * @return {@code [toHeight * toWidth, dim]} in the same layout
     */
    public static float[] bicubic(float[] grid, int dim, int fromHeight, int fromWidth, int toHeight, int toWidth,
                                  boolean antialias) {
        if (grid.length != (long) fromHeight * fromWidth * dim) {
            throw new IllegalArgumentException("a grid of " + fromHeight + "x" + fromWidth + "x" + dim + " has "
                    + (long) fromHeight * fromWidth * dim + " values, got " + grid.length);
        }
        double[][] rows = antialias ? antialiased(fromHeight, toHeight) : plain(fromHeight, toHeight);
        double[][] columns = antialias ? antialiased(fromWidth, toWidth) : plain(fromWidth, toWidth);
        // columns first into a double buffer, then rows: separable, as PyTorch computes it
        double[] across = new double[fromHeight * toWidth * dim];
        for (int y = 0; y < fromHeight; y++) {
            for (int x = 0; x < toWidth; x++) {
                for (int j = 0; j < fromWidth; j++) {
                    double w = columns[x][j];
                    if (w == 0) {
                        continue;
                    }
                    int from = (y * fromWidth + j) * dim;
                    int to = (y * toWidth + x) * dim;
                    for (int d = 0; d < dim; d++) {
                        across[to + d] += w * grid[from + d];
                    }
                }
            }
        }
        float[] out = new float[toHeight * toWidth * dim];
        double[] sum = new double[dim];
        for (int y = 0; y < toHeight; y++) {
            for (int x = 0; x < toWidth; x++) {
                java.util.Arrays.fill(sum, 0);
                for (int i = 0; i < fromHeight; i++) {
                    double w = rows[y][i];
                    if (w == 0) {
                        continue;
                    }
                    int from = (i * toWidth + x) * dim;
                    for (int d = 0; d < dim; d++) {
                        sum[d] += w * across[from + d];
                    }
                }
                int to = (y * toWidth + x) * dim;
                for (int d = 0; d < dim; d++) {
                    out[to + d] = (float) sum[d];
                }
            }
        }
        return out;
    }

    /** Weights [out][in] of upsample_bicubic2d without antialiasing. */
    static double[][] plain(int in, int out) {
        double a = -0.75;
        double scale = (double) in / out;
        double[][] weights = new double[out][in];
        for (int i = 0; i < out; i++) {
            double real = scale * (i + 0.5) - 0.5;
            int first = (int) Math.floor(real);
            double t = real - first;
            double[] w = {far(t + 1, a), near(t, a), near(1 - t, a), far(2 - t, a)};
            for (int k = 0; k < 4; k++) {
                int j = Math.min(Math.max(first - 1 + k, 0), in - 1);
                weights[i][j] += w[k];
            }
        }
        return weights;
    }

    /** Weights [out][in] of the antialiased bicubic filter. */
    static double[][] antialiased(int in, int out) {
        double scale = (double) in / out;
        double support = scale >= 1 ? 2 * scale : 2;
        double invScale = scale >= 1 ? 1 / scale : 1;
        double[][] weights = new double[out][in];
        for (int i = 0; i < out; i++) {
            double center = scale * (i + 0.5);
            int min = Math.max((int) (center - support + 0.5), 0);
            int max = Math.min((int) (center + support + 0.5), in);
            double total = 0;
            for (int j = min; j < max; j++) {
                double w = keys(Math.abs((j - center + 0.5) * invScale));
                weights[i][j] = w;
                total += w;
            }
            if (total != 0) {
                for (int j = min; j < max; j++) {
                    weights[i][j] /= total;
                }
            }
        }
        return weights;
    }

    private static double keys(double x) {
        double a = -0.5;
        return x < 1 ? near(x, a) : x < 2 ? far(x, a) : 0;
    }

    /** Cubic convolution for |x| <= 1. */
    private static double near(double x, double a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    /** Cubic convolution for 1 < |x| < 2. */
    private static double far(double x, double a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }
}
