package dev.vitserve.core.image;

/**
 * Pillow's antialiased BILINEAR resize on 8-bit RGB, bit for bit (libImaging/Resample.c, 8bpc path).
 *
 * <p>Two passes with 22-bit fixed-point weights: horizontal first, each row rounded to 8 bits, over
 * only the source rows the vertical pass reads, then vertical. A pass is skipped when its dimension
 * does not change; when neither changes the result is a copy. Thread-safe (no state).
 *
 * <p>How it is fast while computing exactly Pillow's integer sums:
 * <ul>
 *   <li>Pixels travel packed, one int each ({@link RgbRows#readPacked}): moving a pixel is one load
 *       and one store, and a JPEG's pixels come out of libjpeg-turbo that way (RGBX) at no cost.</li>
 *   <li>Both passes add whole lines at a time: each source line (a column for the horizontal pass,
 *       a row for the vertical one) is added, times its weight, to the few output lines whose filter
 *       covers it, in plain int loops the JIT vectorizes ({@link SumStream}). Adding in this order
 *       gives Pillow's sums exactly: they are integers, far from overflowing.</li>
 *   <li>For the horizontal pass the source is read in stripes of rows, a block of columns at a time,
 *       so that columns are contiguous vectors and everything stays in cache; a resized stripe is
 *       handed row by row to the vertical pass, and no whole intermediate image is kept.</li>
 *   <li>Rounding is a vectorized shift where clipping provably never acts
 *       ({@link BilinearCoefficients#roundsInRange}); filter weights are cached per size pair.</li>
 * </ul>
 */
public final class PillowResize {

    /** Receives the resized image one row at a time. */
    interface RowSink {
        /**
         * Output row {@code y}: its 8-bit values (0..255), one channel per array, the first
         * {@code width} ints of each. The arrays are reused once this returns.
         */
        void row(int y, int[] red, int[] green, int[] blue, int width);
    }

    private static final int HALF = 1 << (BilinearCoefficients.PRECISION_BITS - 1);

    /** Source rows resized horizontally together: long vector loops, yet a stripe stays in cache. */
    private static final int STRIPE_ROWS = 128;

    /** Source columns read out of a stripe together. */
    private static final int COLUMN_BLOCK = 16;

    private PillowResize() {
    }

    /** {@code source} resized to {@code width x height} as Pillow's {@code resize((width, height), BILINEAR)}. */
    public static RgbImage resize(RgbImage source, int width, int height) {
        checkSize(width, height);
        if (width == source.width() && height == source.height()) {
            return new RgbImage(width, height, source.pixels().clone());
        }
        byte[] out = new byte[width * height * 3];
        resize(RgbRows.of(source), width, height, interleaved(out));
        return new RgbImage(width, height, out);
    }

    /** The same for a decoded image, read where it is (a native buffer is not copied whole). */
    static RgbImage resize(DecodedImage source, int width, int height) {
        RgbImage heap = source.heapImage();
        if (heap != null) {
            return resize(heap, width, height);
        }
        checkSize(width, height);
        if (width == source.width() && height == source.height()) {
            return source.toRgbImage();
        }
        byte[] out = new byte[width * height * 3];
        resize(source.rows(), width, height, interleaved(out));
        return new RgbImage(width, height, out);
    }

    /** The same, each output row handed to {@code sink} as it is made. The size must change in some dimension. */
    static void resize(DecodedImage source, int width, int height, RowSink sink) {
        checkSize(width, height);
        resize(source.rows(), width, height, sink);
    }

    private static void resize(RgbRows source, int width, int height, RowSink sink) {
        if (width == source.width() && height == source.height()) {
            throw new IllegalArgumentException("nothing to resize: the image is already " + width + "x" + height);
        }
        new Resize(source.width(), source.height(), width, height, sink).run(source);
    }

    private static void checkSize(int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
    }

    /** A sink writing rows of interleaved R, G, B bytes into {@code out}. */
    private static RowSink interleaved(byte[] out) {
        return (y, red, green, blue, width) -> {
            for (int x = 0, o = y * width * 3; x < width; x++, o += 3) {
                out[o] = (byte) red[x];
                out[o + 1] = (byte) green[x];
                out[o + 2] = (byte) blue[x];
            }
        };
    }

    /**
     * An upper bound of the bytes one resize of {@code inWidth x inHeight} to {@code outWidth x outHeight} allocates:
     * a stripe of {@value #STRIPE_ROWS} packed source rows and its resized rows, both axes' coefficient tables
     * (their first index, count and up to {@code 2 x scale + 3} weights per output position) and the passes' rings of
     * sums (as many slots as weights, three channels).
     */
    static long workingBytes(long inWidth, long inHeight, long outWidth, long outHeight) {
        long rowsSpan = 2 * (inHeight / Math.max(1, outHeight)) + 3;
        long columnsSpan = 2 * (inWidth / Math.max(1, outWidth)) + 3;
        long stripes = 4L * STRIPE_ROWS * (inWidth + outWidth) + 4L * COLUMN_BLOCK * STRIPE_ROWS;
        long tables = 4L * (outHeight * (rowsSpan + 2) + outWidth * (columnsSpan + 2));
        long rings = 12L * (rowsSpan * outWidth + columnsSpan * STRIPE_ROWS);
        return stripes + tables + rings;
    }

    /** One resize: the weights of both axes, and the passes in flight. */
    private static final class Resize {
        private final int inWidth;
        private final int outWidth;
        private final int outHeight;
        private final BilinearCoefficients rows;
        /** Source rows read (and resized horizontally) together. */
        private final int stripeRows;
        private final RowSink sink;
        /** The horizontal pass, or null when the width stays. */
        private final ColumnPass horizontal;
        /** The vertical pass's sums, or null when the height stays. */
        private final SumStream vertical;
        /** One output row's channels, when there is no vertical pass. */
        private final int[][] channels;

        Resize(int inWidth, int inHeight, int outWidth, int outHeight, RowSink sink) {
            this.inWidth = inWidth;
            this.outWidth = outWidth;
            this.outHeight = outHeight;
            this.sink = sink;
            this.rows = outHeight != inHeight ? BilinearCoefficients.of(inHeight, outHeight) : null;
            this.stripeRows = Math.min(STRIPE_ROWS, rows != null ? rows.endUsed() - rows.firstUsed() : inHeight);
            this.horizontal = outWidth != inWidth ? new ColumnPass(BilinearCoefficients.of(inWidth, outWidth), stripeRows) : null;
            this.vertical = rows != null ? new SumStream(rows, outWidth) : null;
            this.channels = rows == null ? new int[3][outWidth] : null;
        }

        void run(RgbRows source) {
            int firstRow = rows != null ? rows.firstUsed() : 0;
            int endRow = rows != null ? rows.endUsed() : outHeight;
            int[][] stripe = new int[stripeRows][inWidth];
            for (int y = firstRow; y < endRow; y += stripeRows) {
                int count = Math.min(stripeRows, endRow - y);
                for (int r = 0; r < count; r++) {
                    source.readPacked(y + r, stripe[r], 0);
                }
                int[][] resized = horizontal != null ? horizontal.resize(stripe, count) : stripe;
                for (int r = 0; r < count; r++) {
                    accept(y + r, resized[r]);
                }
            }
        }

        /** Takes source row {@code y}, resized horizontally (packed): an output row, or into the vertical sums. */
        private void accept(int y, int[] line) {
            if (vertical == null) {
                for (int c = 0; c < 3; c++) {
                    unpack(line, outWidth, 8 * c, channels[c]);
                }
                sink.row(y, channels[0], channels[1], channels[2], outWidth);
                return;
            }
            vertical.add(y, line);
            for (int o = vertical.finishable(y); o >= 0; o = vertical.finishable(y)) {
                int[][] sums = vertical.finish();
                for (int c = 0; c < 3; c++) {
                    round(sums[c], outWidth, rows.roundsInRange());
                }
                sink.row(o, sums[0], sums[1], sums[2], outWidth);
            }
        }
    }

    /**
     * The horizontal pass over a stripe of packed source rows, computed column by column: columns
     * are read out a block at a time and streamed into the output columns' sums ({@link SumStream});
     * each finished output column is rounded, packed and put in its place in the resized rows.
     */
    private static final class ColumnPass {
        private final BilinearCoefficients columns;
        private final int outWidth;
        private final int[][] block;
        private final SumStream sums;
        private final int[] packedColumn;
        /** The resized stripe: packed rows of {@code outWidth} pixels. */
        private final int[][] resized;

        ColumnPass(BilinearCoefficients columns, int stripeRows) {
            this.columns = columns;
            this.outWidth = columns.outSize();
            this.block = new int[COLUMN_BLOCK][stripeRows];
            this.sums = new SumStream(columns, stripeRows);
            this.packedColumn = new int[stripeRows];
            this.resized = new int[stripeRows][outWidth];
        }

        /** Resizes the first {@code count} packed rows of {@code stripe}; the result is valid until the next call. */
        int[][] resize(int[][] stripe, int count) {
            sums.restart(count);
            int end = columns.endUsed();
            for (int first = columns.firstUsed(); first < end; first += COLUMN_BLOCK) {
                int width = Math.min(COLUMN_BLOCK, end - first);
                readColumns(stripe, first, width, count);
                for (int j = 0; j < width; j++) {
                    int x = first + j;
                    sums.add(x, block[j]);
                    for (int o = sums.finishable(x); o >= 0; o = sums.finishable(x)) {
                        finishColumn(o, sums.finish(), count);
                    }
                }
            }
            return resized;
        }

        private void finishColumn(int o, int[][] sums, int count) {
            boolean inRange = columns.roundsInRange();
            for (int c = 0; c < 3; c++) {
                round(sums[c], count, inRange);
            }
            int[] packed = packedColumn;
            pack(sums[0], sums[1], sums[2], packed, count);
            for (int r = 0; r < count; r++) {
                resized[r][o] = packed[r];
            }
        }

        /**
         * Pixel columns {@code first ..< first + width} of the first {@code count} rows of a stripe into
         * the block, a row at a time: each row's memory is visited once per block, not once per column.
         */
        private void readColumns(int[][] stripe, int first, int width, int count) {
            int[][] columns = block;
            for (int r = 0; r < count; r++) {
                int[] row = stripe[r];
                for (int j = 0; j < width; j++) {
                    columns[j][r] = row[first + j];
                }
            }
        }
    }

    /**
     * One pass's fixed-point sums, fed with packed source lines (rows or columns) in order: each line
     * is added, times its weight, to the few output lines whose filter covers it, a channel plane at a
     * time. The sums in flight live in a small ring.
     */
    private static final class SumStream {
        private final BilinearCoefficients coefficients;
        /** [ring slot][channel][position]. */
        private final int[][][] ring;
        private int length;
        private int nextToStart;
        private int nextToFinish;

        SumStream(BilinearCoefficients coefficients, int capacity) {
            this.coefficients = coefficients;
            this.ring = new int[coefficients.maxOverlap()][3][capacity];
            this.length = capacity;
        }

        /** Starts over, for lines of {@code length} pixels. */
        void restart(int length) {
            this.length = length;
            nextToStart = 0;
            nextToFinish = 0;
        }

        /** Adds source line {@code in} ({@code length} packed pixels) to every output line it weighs on. */
        void add(int in, int[] line) {
            int outSize = coefficients.outSize();
            while (nextToStart < outSize && coefficients.first(nextToStart) <= in) {
                nextToStart++;
            }
            int[] weights = coefficients.weights();
            for (int o = nextToFinish; o < nextToStart; o++) {
                int first = coefficients.first(o);
                int weight = weights[coefficients.weightOffset(o) + in - first];
                int[][] sums = ring[o % ring.length];
                if (in == first) {
                    startScaled(sums[0], sums[1], sums[2], line, length, weight);
                } else {
                    addScaled(sums[0], sums[1], sums[2], line, length, weight);
                }
            }
        }

        /** The next output line complete once source line {@code in} was added, or -1. */
        int finishable(int in) {
            return nextToFinish < nextToStart
                    && coefficients.first(nextToFinish) + coefficients.count(nextToFinish) <= in + 1 ? nextToFinish : -1;
        }

        /** The sums (three channel planes) of the output line {@link #finishable} named; valid until the next add. */
        int[][] finish() {
            return ring[nextToFinish++ % ring.length];
        }
    }

    /**
     * {@code sum += channel * weight} for each channel of {@code length} packed pixels. All arrays
     * start at index 0: the JIT (JDK 17) does not vectorize such a loop with an offset.
     */
    private static void addScaled(int[] red, int[] green, int[] blue, int[] line, int length, int weight) {
        for (int i = 0; i < length; i++) {
            int pixel = line[i];
            red[i] += (pixel & 0xFF) * weight;
            green[i] += (pixel >>> 8 & 0xFF) * weight;
            blue[i] += (pixel >>> 16 & 0xFF) * weight;
        }
    }

    /** The first term of each sum: the rounding half plus {@code channel * weight}. */
    private static void startScaled(int[] red, int[] green, int[] blue, int[] line, int length, int weight) {
        for (int i = 0; i < length; i++) {
            int pixel = line[i];
            red[i] = HALF + (pixel & 0xFF) * weight;
            green[i] = HALF + (pixel >>> 8 & 0xFF) * weight;
            blue[i] = HALF + (pixel >>> 16 & 0xFF) * weight;
        }
    }

    /** The channel at bit {@code shift} of {@code length} packed pixels, into {@code out}. */
    private static void unpack(int[] line, int length, int shift, int[] out) {
        for (int i = 0; i < length; i++) {
            out[i] = line[i] >>> shift & 0xFF;
        }
    }

    /** Three channel planes of 0..255 values packed, R | G << 8 | B << 16. */
    private static void pack(int[] red, int[] green, int[] blue, int[] packed, int length) {
        for (int i = 0; i < length; i++) {
            packed[i] = red[i] | green[i] << 8 | blue[i] << 16;
        }
    }

    /**
     * Fixed-point sums rounded down to 8 bits, clipped to 0..255, where they are. When {@code inRange}
     * ({@link BilinearCoefficients#roundsInRange}) that is a plain shift, in a loop the JIT vectorizes
     * (it does not vectorize {@code Math.min}).
     */
    static void round(int[] sums, int length, boolean inRange) {
        if (inRange) {
            for (int i = 0; i < length; i++) {
                sums[i] >>= BilinearCoefficients.PRECISION_BITS;
            }
        } else {
            for (int i = 0; i < length; i++) {
                int v = sums[i] >> BilinearCoefficients.PRECISION_BITS;
                sums[i] = v < 0 ? 0 : Math.min(v, 255);
            }
        }
    }
}
