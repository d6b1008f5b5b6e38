package dev.vitserve.core.image;

/**
 * Pillow's resize on 8-bit RGB with any of its filters, bit for bit: the antialiased convolutions of
 * libImaging/Resample.c (8bpc path) and NEAREST's own path of libImaging/Geometry.c.
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
 *       ({@link ResampleCoefficients#roundsInRange}); filter weights are cached per size pair.</li>
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

    private static final int HALF = 1 << (ResampleCoefficients.PRECISION_BITS - 1);

    /** Source rows resized horizontally together: long vector loops, yet a stripe stays in cache. */
    private static final int STRIPE_ROWS = 128;

    /** Source columns read out of a stripe together. */
    private static final int COLUMN_BLOCK = 16;

    private PillowResize() {
    }

    /** {@code source} resized to {@code width x height} as Pillow's {@code resize((width, height), BILINEAR)}. */
    public static RgbImage resize(RgbImage source, int width, int height) {
        return resize(source, width, height, ResampleFilter.BILINEAR);
    }

    /** {@code source} resized to {@code width x height} as Pillow's {@code resize((width, height), filter)}. */
    public static RgbImage resize(RgbImage source, int width, int height, ResampleFilter filter) {
        checkSize(width, height);
        if (width == source.width() && height == source.height()) {
            return new RgbImage(width, height, source.pixels().clone());
        }
        byte[] out = new byte[width * height * 3];
        resize(RgbRows.of(source), width, height, filter, Window.all(width, height), interleaved(out));
        return new RgbImage(width, height, out);
    }

    /** The same for a decoded image, read where it is (a native buffer is not copied whole). */
    static RgbImage resize(DecodedImage source, int width, int height) {
        return resize(source, width, height, ResampleFilter.BILINEAR);
    }

    /** The same with any filter. */
    static RgbImage resize(DecodedImage source, int width, int height, ResampleFilter filter) {
        RgbImage heap = source.heapImage();
        if (heap != null) {
            return resize(heap, width, height, filter);
        }
        checkSize(width, height);
        if (width == source.width() && height == source.height()) {
            return source.toRgbImage();
        }
        byte[] out = new byte[width * height * 3];
        resize(source.rows(), width, height, filter, Window.all(width, height), interleaved(out));
        return new RgbImage(width, height, out);
    }

    /**
     * The part {@code window} of the resize to {@code width x height}, each of its rows handed to
     * {@code sink} as it is made (row 0 is the window's first). Only that part is computed: the source
     * rows and columns outside it are not read. When the size does not change the window is copied,
     * as Pillow copies an image resized to its own size.
     */
    static void resize(DecodedImage source, int width, int height, ResampleFilter filter, Window window, RowSink sink) {
        checkSize(width, height);
        window.checkInside(width, height);
        resize(source.rows(), width, height, filter, window, sink);
    }

    private static void resize(RgbRows source, int width, int height, ResampleFilter filter, Window window, RowSink sink) {
        boolean same = width == source.width() && height == source.height();
        if (same || filter == ResampleFilter.NEAREST) {
            nearest(source, width, height, window, sink);
        } else {
            new Resize(source.width(), source.height(), width, height, filter, window, sink).run(source);
        }
    }

    private static void checkSize(int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
        }
    }

    /** Output columns {@code x0 ..< x1} and rows {@code y0 ..< y1} of a resize: what a center crop keeps of it. */
    record Window(int x0, int y0, int x1, int y1) {

        /** The whole {@code width x height} output. */
        static Window all(int width, int height) {
            return new Window(0, 0, width, height);
        }

        int width() {
            return x1 - x0;
        }

        int height() {
            return y1 - y0;
        }

        void checkInside(int width, int height) {
            if (x0 < 0 || y0 < 0 || x1 > width || y1 > height || x0 >= x1 || y0 >= y1) {
                throw new IllegalArgumentException("window " + this + " is not a part of " + width + "x" + height);
            }
        }
    }

    /**
     * Pillow's NEAREST resize (libImaging/Geometry.c, {@code ImagingScaleAffine} as {@code resize}
     * calls it): the source index of each output index is the running sum, in double, of
     * {@code in / out} from {@code in / out / 2}, truncated; outside the source the pixel is 0. With
     * the size unchanged the indices are the identity, which is also how a same-size resize copies.
     */
    private static void nearest(RgbRows source, int width, int height, Window window, RowSink sink) {
        int[] columns = nearestIndices(source.width(), width);
        int[] rows = nearestIndices(source.height(), height);
        int outWidth = window.width();
        int[] line = new int[source.width()];
        int[][] channels = new int[3][outWidth];
        int loaded = -1;
        for (int y = window.y0(); y < window.y1(); y++) {
            int sourceRow = rows[y];
            if (sourceRow < 0) {
                for (int[] channel : channels) {
                    java.util.Arrays.fill(channel, 0);
                }
            } else {
                if (sourceRow != loaded) {
                    source.readPacked(sourceRow, line, 0);
                    loaded = sourceRow;
                }
                int[] red = channels[0];
                int[] green = channels[1];
                int[] blue = channels[2];
                for (int i = 0; i < outWidth; i++) {
                    int x = columns[window.x0() + i];
                    int pixel = x < 0 ? 0 : line[x];
                    red[i] = pixel & 0xFF;
                    green[i] = pixel >>> 8 & 0xFF;
                    blue[i] = pixel >>> 16 & 0xFF;
                }
            }
            sink.row(y - window.y0(), channels[0], channels[1], channels[2], outWidth);
        }
    }

    /** The source index NEAREST reads for each of {@code outSize} outputs, -1 where it falls outside. */
    static int[] nearestIndices(int inSize, int outSize) {
        int[] indices = new int[outSize];
        if (inSize == outSize) {
            for (int i = 0; i < outSize; i++) {
                indices[i] = i;
            }
            return indices;
        }
        // _imaging.c: a[0] = (double) (box[2] - box[0]) / xsize with a float box; Geometry.c starts at a[0] * 0.5
        double step = (double) (float) inSize / outSize;
        double position = step * 0.5;
        for (int i = 0; i < outSize; i++) {
            int index = position < 0.0 ? -1 : (int) position;
            indices[i] = index >= 0 && index < inSize ? index : -1;
            position += step;
        }
        return indices;
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
        private final Window window;
        private final ResampleCoefficients rows;
        /** Source rows read (and resized horizontally) together. */
        private final int stripeRows;
        private final RowSink sink;
        /** The horizontal pass, or null when the width stays. */
        private final ColumnPass horizontal;
        /** The vertical pass's sums, or null when the height stays. */
        private final SumStream vertical;
        /** One output row's channels, when there is no vertical pass. */
        private final int[][] channels;

        Resize(int inWidth, int inHeight, int outWidth, int outHeight, ResampleFilter filter, Window window, RowSink sink) {
            this.inWidth = inWidth;
            this.outWidth = window.width();
            this.window = window;
            this.sink = sink;
            this.rows = outHeight != inHeight
                    ? ResampleCoefficients.of(inHeight, outHeight, filter, window.y0(), window.y1()) : null;
            this.stripeRows = Math.min(STRIPE_ROWS, rows != null ? rows.endUsed() - rows.firstUsed() : window.height());
            this.horizontal = outWidth != inWidth ? new ColumnPass(
                    ResampleCoefficients.of(inWidth, outWidth, filter, window.x0(), window.x1()), stripeRows) : null;
            this.vertical = rows != null ? new SumStream(rows, this.outWidth) : null;
            this.channels = rows == null ? new int[3][this.outWidth] : null;
        }

        void run(RgbRows source) {
            int firstRow = rows != null ? rows.firstUsed() : window.y0();
            int endRow = rows != null ? rows.endUsed() : window.y1();
            // without a horizontal pass the window's columns are the source's, moved to the start of the line
            int shift = horizontal == null ? window.x0() : 0;
            int[][] stripe = new int[stripeRows][inWidth];
            for (int y = firstRow; y < endRow; y += stripeRows) {
                int count = Math.min(stripeRows, endRow - y);
                for (int r = 0; r < count; r++) {
                    source.readPacked(y + r, stripe[r], 0);
                    if (shift > 0) {
                        System.arraycopy(stripe[r], shift, stripe[r], 0, outWidth);
                    }
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
                sink.row(y - window.y0(), channels[0], channels[1], channels[2], outWidth);
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
        private final ResampleCoefficients columns;
        private final int outWidth;
        private final int[][] block;
        private final SumStream sums;
        private final int[] packedColumn;
        /** The resized stripe: packed rows of {@code outWidth} pixels. */
        private final int[][] resized;

        ColumnPass(ResampleCoefficients columns, int stripeRows) {
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
        private final ResampleCoefficients coefficients;
        /** [ring slot][channel][position]. */
        private final int[][][] ring;
        private int length;
        private int nextToStart;
        private int nextToFinish;

        SumStream(ResampleCoefficients coefficients, int capacity) {
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
     * ({@link ResampleCoefficients#roundsInRange}) that is a plain shift, in a loop the JIT vectorizes
     * (it does not vectorize {@code Math.min}).
     */
    static void round(int[] sums, int length, boolean inRange) {
        if (inRange) {
            for (int i = 0; i < length; i++) {
                sums[i] >>= ResampleCoefficients.PRECISION_BITS;
            }
        } else {
            for (int i = 0; i < length; i++) {
                int v = sums[i] >> ResampleCoefficients.PRECISION_BITS;
                sums[i] = v < 0 ? 0 : Math.min(v, 255);
            }
        }
    }
}
