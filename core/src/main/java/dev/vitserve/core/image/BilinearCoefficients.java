package dev.vitserve.core.image;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pillow's antialiased BILINEAR filter weights for one axis ({@code precompute_coeffs} and
 * {@code normalize_coeffs_8bpc} in libImaging/Resample.c), as 22-bit fixed point. Immutable.
 *
 * <p>For output index {@code i}: source indices {@code first(i) .. first(i) + count(i) - 1} with
 * weights {@code weight(i, 0 .. count(i) - 1)}. Computed in double exactly as the C code does,
 * including its order of operations, so that the rounded integer weights are identical.
 *
 * <p>Weights are cached per size pair ({@link #of}): a server sees the same few sizes again and again.
 */
final class BilinearCoefficients {

    /** Fractional bits of the fixed-point weights: {@code 32 - 8 - 2} in Resample.c. */
    static final int PRECISION_BITS = 22;

    /** Size pairs kept by {@link #of}; the cache starts over when it is full. */
    private static final int CACHE_SIZE = 128;

    private static final Map<Long, BilinearCoefficients> CACHE = new ConcurrentHashMap<>();

    private final int[] first;
    private final int[] count;
    private final int[] weights;
    private final int stride;
    private final boolean roundsInRange;

    private BilinearCoefficients(int[] first, int[] count, int[] weights, int stride) {
        this.first = first;
        this.count = count;
        this.weights = weights;
        this.stride = stride;
        boolean inRange = true;
        for (int i = 0; i < first.length; i++) {
            long sum = 0;
            for (int k = 0; k < count[i]; k++) {
                int w = weights[i * stride + k];
                inRange &= w >= 0;
                sum += w;
            }
            inRange &= 255 * sum + (1L << (PRECISION_BITS - 1)) < 256L << PRECISION_BITS;
        }
        this.roundsInRange = inRange;
    }

    /** The weights to resample {@code inSize} samples to {@code outSize}, from the cache when they were made before. */
    static BilinearCoefficients of(int inSize, int outSize) {
        Long key = ((long) inSize << 32) | outSize;
        BilinearCoefficients cached = CACHE.get(key);
        if (cached != null) {
            return cached;
        }
        if (CACHE.size() >= CACHE_SIZE) {
            CACHE.clear();
        }
        BilinearCoefficients computed = compute(inSize, outSize);
        CACHE.put(key, computed);
        return computed;
    }

    /** The weights to resample {@code inSize} source samples to {@code outSize} samples. */
    static BilinearCoefficients compute(int inSize, int outSize) {
        // Resample.c takes the box as floats: (double) (in1 - in0) / outSize with in0 = 0.0f, in1 = inSize.
        double scale = (double) (float) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = 1.0 * filterScale; // the bilinear filter's support is 1
        int stride = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        int[] weights = new int[outSize * stride];
        double[] k = new double[stride];
        double ss = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            double ww = 0.0;
            for (int x = 0; x < xmax; x++) {
                double w = triangle((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                if (ww != 0.0) {
                    k[x] /= ww;
                }
                weights[xx * stride + x] = toFixedPoint(k[x]);
            }
            first[xx] = xmin;
            count[xx] = xmax;
        }
        return new BilinearCoefficients(first, count, weights, stride);
    }

    private static double triangle(double x) {
        if (x < 0.0) {
            x = -x;
        }
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    /** Rounds half away from zero, truncating like C's (int) cast. */
    private static int toFixedPoint(double weight) {
        double scaled = weight * (1 << PRECISION_BITS);
        return weight < 0 ? (int) (-0.5 + scaled) : (int) (0.5 + scaled);
    }

    int first(int out) {
        return first[out];
    }

    int count(int out) {
        return count[out];
    }

    /** Offset of output index {@code out}'s first weight in {@link #weights()}. */
    int weightOffset(int out) {
        return out * stride;
    }

    /** All weights, {@code stride} entries per output index (unused ones are 0). */
    int[] weights() {
        return weights;
    }

    /**
     * Whether every output's fixed-point sum of 8-bit samples, plus the rounding half, lies in
     * {@code [0, 256 << PRECISION_BITS)}: then rounding is a shift, and Pillow's clipping to 0..255 never acts.
     * True for all but extreme size pairs (the rounded weights are never negative and sum to about 1).
     */
    boolean roundsInRange() {
        return roundsInRange;
    }

    /** Number of outputs. */
    int outSize() {
        return first.length;
    }

    /** The most outputs whose filters cover one source index (their windows are contiguous and in order). */
    int maxOverlap() {
        int most = 0;
        int lo = 0;
        for (int hi = 0; hi < first.length; hi++) {
            // outputs lo..hi all cover source index first[hi] unless they end before it
            while (lo < hi && first[lo] + count[lo] <= first[hi]) {
                lo++;
            }
            most = Math.max(most, hi - lo + 1);
        }
        return Math.max(most, 1);
    }

    /** The first source index any output uses. */
    int firstUsed() {
        return first[0];
    }

    /** One past the last source index any output uses. */
    int endUsed() {
        int last = first.length - 1;
        return first[last] + count[last];
    }
}
