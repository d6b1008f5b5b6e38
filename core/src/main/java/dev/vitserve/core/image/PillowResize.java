package dev.vitserve.core.image;

/**
 * Pillow's antialiased BILINEAR resize on 8-bit RGB, bit for bit (libImaging/Resample.c, 8bpc path).
 *
 * <p>Two passes with 22-bit fixed-point weights: horizontal first, into an 8-bit intermediate that
 * covers only the source rows the vertical pass reads, then vertical. A pass is skipped when its
 * dimension does not change; when neither changes the result is a copy. Thread-safe (no state).
 *
 * <p>The horizontal pass, which reads every source pixel, dominates. It runs over fixed-width,
 * zero-padded filter windows ({@link BilinearCoefficients#windowWeights()}: adding zero products
 * changes no sum) two rows at a time, so that each weight is loaded once for six products. A source
 * in a native buffer ({@link RgbRows}) is read one row at a time into a small array that stays in cache.
 */
public final class PillowResize {

    private static final int HALF = 1 << (BilinearCoefficients.PRECISION_BITS - 1);

    private PillowResize() {
    }

    /** {@code source} resized to {@code width x height} as Pillow's {@code resize((width, height), BILINEAR)}. */
    public static RgbImage resize(RgbImage source, int width, int height) {
        checkSize(width, height);
        if (width == source.width() && height == source.height()) {
            return new RgbImage(width, height, source.pixels().clone());
        }
        return resize(source.width(), source.height(), width, height, source.pixels(), null);
    }

    /** The same for a decoded image, read where it is (a native buffer is not copied whole). */
    static RgbImage resize(DecodedImage source, int width, int height) {
        RgbImage heap = source.heapImage();
        if (heap != null) {
            return resize(heap, width, height);
        }
        checkSize(width, height);
        RgbRows rows = source.rows();
        if (width == rows.width() && height == rows.height()) {
            return source.toRgbImage();
        }
        return resize(rows.width(), rows.height(), width, height, null, rows);
    }

    private static void checkSize(int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
    }

    /** Resizes the source given either as {@code pixels} or as {@code rows}. */
    private static RgbImage resize(int inWidth, int inHeight, int width, int height, byte[] pixels, RgbRows rows) {
        boolean horizontal = width != inWidth;
        boolean vertical = height != inHeight;
        BilinearCoefficients vertically = vertical ? BilinearCoefficients.of(inHeight, height) : null;
        int firstRow = vertical ? vertically.firstUsed() : 0;
        int endRow = vertical ? vertically.endUsed() : inHeight;
        byte[] intermediate;
        if (horizontal) {
            BilinearCoefficients horizontally = BilinearCoefficients.of(inWidth, width);
            intermediate = new byte[(endRow - firstRow) * width * 3];
            if (rows != null) {
                resizeRows(rows, horizontally, firstRow, endRow, intermediate);
            } else {
                resizeRows(pixels, inWidth, horizontally, firstRow, endRow, intermediate);
            }
        } else {
            intermediate = copyRows(pixels, rows, inWidth, firstRow, endRow);
        }
        if (!vertical) {
            return new RgbImage(width, height, intermediate);
        }
        return new RgbImage(width, height, resizeColumns(intermediate, width, vertically, firstRow, height));
    }

    /** Source rows {@code [firstRow, endRow)} as one array, for a vertical-only resize. */
    private static byte[] copyRows(byte[] pixels, RgbRows rows, int width, int firstRow, int endRow) {
        int rowBytes = width * 3;
        byte[] out = new byte[(endRow - firstRow) * rowBytes];
        if (pixels != null) {
            System.arraycopy(pixels, firstRow * rowBytes, out, 0, out.length);
            return out;
        }
        for (int y = firstRow; y < endRow; y++) {
            rows.readRow(y, out, (y - firstRow) * rowBytes);
        }
        return out;
    }

    /** Horizontal pass over rows {@code [firstRow, endRow)} of an image on the heap. */
    private static void resizeRows(byte[] in, int inWidth, BilinearCoefficients columns, int firstRow, int endRow,
            byte[] out) {
        int inStride = inWidth * 3;
        int outStride = out.length / Math.max(1, endRow - firstRow);
        int y = firstRow;
        for (; y + 1 < endRow; y += 2) {
            int start = y * inStride;
            resampleRowPair(in, start, start + inStride, out, (y - firstRow) * outStride, columns);
        }
        if (y < endRow) {
            resampleRow(in, y * inStride, out, (y - firstRow) * outStride, columns);
        }
    }

    /** Horizontal pass over rows {@code [firstRow, endRow)} read from {@code rows}, two at a time through one small array. */
    private static void resizeRows(RgbRows rows, BilinearCoefficients columns, int firstRow, int endRow, byte[] out) {
        int inStride = rows.width() * 3;
        int outStride = out.length / Math.max(1, endRow - firstRow);
        byte[] pair = new byte[2 * inStride];
        int y = firstRow;
        for (; y + 1 < endRow; y += 2) {
            rows.readRow(y, pair, 0);
            rows.readRow(y + 1, pair, inStride);
            resampleRowPair(pair, 0, inStride, out, (y - firstRow) * outStride, columns);
        }
        if (y < endRow) {
            rows.readRow(y, pair, 0);
            resampleRow(pair, 0, out, (y - firstRow) * outStride, columns);
        }
    }

    /** One source row (at {@code in[start]}) to one output row (at {@code out[to]}). */
    private static void resampleRow(byte[] in, int start, byte[] out, int to, BilinearCoefficients columns) {
        int taps = columns.taps();
        int[] starts = columns.windowStarts();
        int[] weights = columns.windowWeights();
        for (int x = 0, w = 0, o = to; x < starts.length; x++, w += taps, o += 3) {
            int p = start + starts[x] * 3;
            int r = HALF;
            int g = HALF;
            int b = HALF;
            for (int k = 0; k < taps; k++) {
                int weight = weights[w + k];
                int q = p + 3 * k;
                r += (in[q] & 0xFF) * weight;
                g += (in[q + 1] & 0xFF) * weight;
                b += (in[q + 2] & 0xFF) * weight;
            }
            out[o] = clip8(r);
            out[o + 1] = clip8(g);
            out[o + 2] = clip8(b);
        }
    }

    /** Two source rows (at {@code in[start0]} and {@code in[start1]}) to two consecutive output rows from {@code out[to]}. */
    private static void resampleRowPair(byte[] in, int start0, int start1, byte[] out, int to,
            BilinearCoefficients columns) {
        int taps = columns.taps();
        int[] starts = columns.windowStarts();
        int[] weights = columns.windowWeights();
        int outWidth = starts.length;
        int next = outWidth * 3;
        for (int x = 0, w = 0, o = to; x < outWidth; x++, w += taps, o += 3) {
            int p0 = start0 + starts[x] * 3;
            int p1 = start1 + starts[x] * 3;
            int r0 = HALF;
            int g0 = HALF;
            int b0 = HALF;
            int r1 = HALF;
            int g1 = HALF;
            int b1 = HALF;
            for (int k = 0; k < taps; k++) {
                int weight = weights[w + k];
                int q0 = p0 + 3 * k;
                int q1 = p1 + 3 * k;
                r0 += (in[q0] & 0xFF) * weight;
                g0 += (in[q0 + 1] & 0xFF) * weight;
                b0 += (in[q0 + 2] & 0xFF) * weight;
                r1 += (in[q1] & 0xFF) * weight;
                g1 += (in[q1 + 1] & 0xFF) * weight;
                b1 += (in[q1 + 2] & 0xFF) * weight;
            }
            out[o] = clip8(r0);
            out[o + 1] = clip8(g0);
            out[o + 2] = clip8(b0);
            out[o + next] = clip8(r1);
            out[o + next + 1] = clip8(g1);
            out[o + next + 2] = clip8(b1);
        }
    }

    /** Vertical pass; {@code in} holds source rows starting at row {@code rowOffset}. */
    private static byte[] resizeColumns(byte[] in, int width, BilinearCoefficients rows, int rowOffset, int outHeight) {
        int rowLength = width * 3;
        int[] weights = rows.weights();
        int[] sums = new int[rowLength];
        byte[] out = new byte[outHeight * rowLength];
        for (int y = 0; y < outHeight; y++) {
            java.util.Arrays.fill(sums, HALF);
            int w = rows.weightOffset(y);
            int end = rows.first(y) - rowOffset + rows.count(y);
            for (int row = rows.first(y) - rowOffset; row < end; row++, w++) {
                int k = weights[w];
                int p = row * rowLength;
                for (int i = 0; i < rowLength; i++) {
                    sums[i] += (in[p + i] & 0xFF) * k;
                }
            }
            int o = y * rowLength;
            for (int i = 0; i < rowLength; i++) {
                out[o + i] = clip8(sums[i]);
            }
        }
        return out;
    }

    private static byte clip8(int sum) {
        int v = sum >> BilinearCoefficients.PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }
}
