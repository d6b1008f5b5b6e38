package dev.vitserve.core.image;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pillow's antialiased filter weights for one axis and one convolution filter ({@code precompute_coeffs}
 * and {@code normalize_coeffs_8bpc} in libImaging/Resample.c), as 22-bit fixed point. Immutable.
 *
 * <p>For output index {@code i}: source indices {@code first(i) .. first(i) + count(i) - 1} with
 * weights {@code weight(i, 0 .. count(i) - 1)}. Computed in double exactly as the C code does,
 * including its order of operations, so that the rounded integer weights are identical.
 *
 * <p>The weights may cover only a window {@code [from, to)} of the outputs (a center crop keeps only
 * those): each output's weights depend on its index alone, so they are the very weights of the whole
 * resize. Output {@code i} here is output {@code from + i} of the whole resize.
 *
 * <p>Weights are cached per size pair, filter and window ({@link #of}): a server sees the same few
 * sizes again and again.
 */
final class ResampleCoefficients {

    /** Fractional bits of the fixed-point weights: {@code 32 - 8 - 2} in Resample.c. */
    static final int PRECISION_BITS = 22;

    /** Size pairs kept by {@link #of}; the cache starts over when it is full. */
    private static final int CACHE_SIZE = 128;

    private static final Map<Key, ResampleCoefficients> CACHE = new ConcurrentHashMap<>();

    private record Key(int inSize, int outSize, ResampleFilter filter, int from, int to) {
    }

    private final int[] first;
    private final int[] count;
    private final int[] weights;
    private final int stride;
    private final boolean roundsInRange;

    private ResampleCoefficients(int[] first, int[] count, int[] weights, int stride) {
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

    /** BILINEAR weights for all outputs, from the cache when they were made before. */
    static ResampleCoefficients of(int inSize, int outSize) {
        return of(inSize, outSize, ResampleFilter.BILINEAR, 0, outSize);
    }

    /**
     * The weights to resample {@code inSize} samples to {@code outSize} with {@code filter}, for outputs
     * {@code from ..< to}, from the cache when they were made before.
     */
    static ResampleCoefficients of(int inSize, int outSize, ResampleFilter filter, int from, int to) {
        Key key = new Key(inSize, outSize, filter, from, to);
        ResampleCoefficients cached = CACHE.get(key);
        if (cached != null) {
            return cached;
        }
        if (CACHE.size() >= CACHE_SIZE) {
            CACHE.clear();
        }
        ResampleCoefficients computed = compute(inSize, outSize, filter, from, to);
        CACHE.put(key, computed);
        return computed;
    }

    /** BILINEAR weights to resample {@code inSize} source samples to {@code outSize} samples. */
    static ResampleCoefficients compute(int inSize, int outSize) {
        return compute(inSize, outSize, ResampleFilter.BILINEAR, 0, outSize);
    }

    /** The weights of outputs {@code from ..< to} when resampling {@code inSize} samples to {@code outSize}. */
    static ResampleCoefficients compute(int inSize, int outSize, ResampleFilter filter, int from, int to) {
        if (filter == ResampleFilter.NEAREST) {
            throw new IllegalArgumentException("NEAREST is not a convolution; Pillow takes another path for it");
        }
        if (from < 0 || to > outSize || from >= to) {
            throw new IllegalArgumentException("output window " + from + "..<" + to + " is not inside 0..<" + outSize);
        }
        // Resample.c takes the box as floats: (double) (in1 - in0) / outSize with in0 = 0.0f, in1 = inSize.
        double scale = (double) (float) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support() * filterScale;
        int stride = (int) Math.ceil(support) * 2 + 1;
        int size = to - from;
        int[] first = new int[size];
        int[] count = new int[size];
        int[] weights = new int[size * stride];
        double[] k = new double[stride];
        double ss = 1.0 / filterScale;
        for (int xx = from; xx < to; xx++) {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = filter.kernel((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            int at = (xx - from) * stride;
            for (int x = 0; x < xmax; x++) {
                if (ww != 0.0) {
                    k[x] /= ww;
                }
                weights[at + x] = toFixedPoint(k[x]);
            }
            first[xx - from] = xmin;
            count[xx - from] = xmax;
        }
        return new ResampleCoefficients(first, count, weights, stride);
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
