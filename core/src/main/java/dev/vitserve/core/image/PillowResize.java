package dev.vitserve.core.image;

/**
 * Pillow's antialiased BILINEAR resize on 8-bit RGB, bit for bit (libImaging/Resample.c, 8bpc path).
 *
 * <p>Two passes with 22-bit fixed-point weights: horizontal first, into an 8-bit intermediate that
 * covers only the source rows the vertical pass reads, then vertical. A pass is skipped when its
 * dimension does not change; when neither changes the result is a copy. Thread-safe (no state).
 */
public final class PillowResize {

    private static final int HALF = 1 << (BilinearCoefficients.PRECISION_BITS - 1);

    private PillowResize() {
    }

    /** {@code source} resized to {@code width x height} as Pillow's {@code resize((width, height), BILINEAR)}. */
    public static RgbImage resize(RgbImage source, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
        boolean horizontal = width != source.width();
        boolean vertical = height != source.height();
        if (!horizontal && !vertical) {
            return new RgbImage(width, height, source.pixels().clone());
        }
        BilinearCoefficients rows = vertical ? BilinearCoefficients.compute(source.height(), height) : null;
        byte[] pixels = source.pixels();
        int rowOffset = 0;
        int rowsHeld = source.height();
        if (horizontal) {
            int firstRow = vertical ? rows.firstUsed() : 0;
            int endRow = vertical ? rows.endUsed() : source.height();
            pixels = resizeRows(source, width, firstRow, endRow);
            rowOffset = firstRow;
            rowsHeld = endRow - firstRow;
        }
        if (!vertical) {
            return new RgbImage(width, rowsHeld, pixels);
        }
        return new RgbImage(width, height, resizeColumns(pixels, width, rows, rowOffset, height));
    }

    /** Horizontal pass over source rows {@code [firstRow, endRow)}. */
    private static byte[] resizeRows(RgbImage source, int outWidth, int firstRow, int endRow) {
        BilinearCoefficients columns = BilinearCoefficients.compute(source.width(), outWidth);
        int[] weights = columns.weights();
        int[] first = new int[outWidth];
        int[] count = new int[outWidth];
        int[] weightAt = new int[outWidth];
        for (int x = 0; x < outWidth; x++) {
            first[x] = columns.first(x) * 3;
            count[x] = columns.count(x);
            weightAt[x] = columns.weightOffset(x);
        }
        byte[] in = source.pixels();
        int inStride = source.width() * 3;
        byte[] out = new byte[(endRow - firstRow) * outWidth * 3];
        int o = 0;
        for (int y = firstRow; y < endRow; y++) {
            int rowStart = y * inStride;
            for (int x = 0; x < outWidth; x++) {
                int r = HALF;
                int g = HALF;
                int b = HALF;
                int p = rowStart + first[x];
                int w = weightAt[x];
                for (int n = count[x]; n > 0; n--, p += 3, w++) {
                    int k = weights[w];
                    r += (in[p] & 0xFF) * k;
                    g += (in[p + 1] & 0xFF) * k;
                    b += (in[p + 2] & 0xFF) * k;
                }
                out[o++] = clip8(r);
                out[o++] = clip8(g);
                out[o++] = clip8(b);
            }
        }
        return out;
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
