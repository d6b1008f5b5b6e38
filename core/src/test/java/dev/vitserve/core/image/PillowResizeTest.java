package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Pillow's BILINEAR resize, bit for bit, on awkward sizes (references from Pillow 9.4). */
class PillowResizeTest {

    private static final ImageDecoder DECODER = new ImageDecoder(40_000_000);

    static Stream<Arguments> pillowCases() {
        List<Arguments> cases = new ArrayList<>();
        for (JsonNode c : PillowReference.json().get("resize")) {
            cases.add(Arguments.of(c.get("image").asText(), c.get("width").asInt(), c.get("height").asInt(),
                    c.get("sha256").asText()));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} to {1}x{2}")
    @MethodSource("pillowCases")
    void resizesLikePillow(String file, int width, int height, String sha256) throws Exception {
        RgbImage source = DECODER.decode(PillowReference.bytes(file));
        RgbImage resized = PillowResize.resize(source, width, height);
        assertEquals(width, resized.width());
        assertEquals(height, resized.height());
        assertEquals(sha256, PillowReference.sha256(resized.pixels()),
                file + " " + source.width() + "x" + source.height() + " to " + width + "x" + height);
    }

    /** Sizes that take every branch: both passes, one of them, none, upscaling, a single pixel. */
    static Stream<Arguments> sizes() {
        return Stream.of(Arguments.of(224, 224), Arguments.of(600, 200), Arguments.of(300, 400), Arguments.of(600, 400),
                Arguments.of(1203, 801), Arguments.of(1, 1), Arguments.of(599, 3), Arguments.of(97, 211));
    }

    /** A JPEG left in libjpeg-turbo's buffer resizes to the very bytes of the same pixels on the heap. */
    @ParameterizedTest(name = "to {0}x{1}")
    @MethodSource("sizes")
    void resizingInTheDecodersBufferEqualsResizingOnTheHeap(int width, int height) throws Exception {
        ImageDecoder decoder = JpegPath.TURBOJPEG.decoder(40_000_000);
        for (String file : List.of("images/coffee.jpg", "images-extra/gray.jpg", "images-extra/cmyk.jpg")) {
            byte[] jpeg = PillowReference.bytes(file);
            RgbImage heap = PillowResize.resize(decoder.decode(jpeg), width, height);
            try (DecodedImage inPlace = decoder.decodeForPreprocessing(jpeg)) {
                assertTrue(inPlace.heapImage() == null, "left in the native buffer");
                assertEquals(heap, PillowResize.resize(inPlace, width, height), file);
            }
        }
    }

    @Test
    void sameSizeIsACopy() {
        RgbImage source = new RgbImage(2, 1, new byte[] {1, 2, 3, 4, 5, 6});
        RgbImage copy = PillowResize.resize(source, 2, 1);
        assertEquals(source, copy);
        assertNotSame(source.pixels(), copy.pixels());
    }

    @Test
    void upscalingAUniformImageKeepsItsColour() {
        byte[] pixels = new byte[3 * 3 * 3];
        for (int i = 0; i < pixels.length; i += 3) {
            pixels[i] = 10;
            pixels[i + 1] = (byte) 200;
            pixels[i + 2] = (byte) 255;
        }
        RgbImage resized = PillowResize.resize(new RgbImage(3, 3, pixels), 17, 5);
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 17; x++) {
                assertArrayEquals(new int[] {10, 200, 255},
                        new int[] {resized.sample(x, y, 0), resized.sample(x, y, 1), resized.sample(x, y, 2)});
            }
        }
    }

    @Test
    void halvingAveragesPairsWithPillowRounding() {
        // 2x1 -> 1x1: weights 1/2 each; (0 + 255) / 2 = 127.5 rounds up with the 1 << 21 bias
        RgbImage source = new RgbImage(2, 1, new byte[] {0, 0, 0, (byte) 255, 1, 2});
        RgbImage resized = PillowResize.resize(source, 1, 1);
        assertArrayEquals(new byte[] {(byte) 128, 1, 1}, resized.pixels());
    }

    /**
     * Against a plain transcription of Resample.c (one output sample at a time, passes skipped as
     * Pillow skips them) on random sizes: stripe and block edges, single rows and columns, upscaling,
     * one dimension kept.
     */
    @Test
    void equalsAPlainTranscriptionOfPillowOnRandomSizes() {
        java.util.Random random = new java.util.Random(20261127);
        for (int i = 0; i < 160; i++) {
            int width = 1 + random.nextInt(i % 4 == 0 ? 700 : 90);
            int height = 1 + random.nextInt(i % 3 == 0 ? 700 : 90);
            int toWidth = i % 7 == 0 ? width : 1 + random.nextInt(260);
            int toHeight = i % 5 == 0 ? height : 1 + random.nextInt(260);
            if (toWidth == width && toHeight == height) {
                toHeight++;
            }
            byte[] pixels = new byte[width * height * 3];
            random.nextBytes(pixels);
            RgbImage source = new RgbImage(width, height, pixels);
            RgbImage expected = plainPillowResize(source, toWidth, toHeight);
            assertEquals(expected, PillowResize.resize(source, toWidth, toHeight),
                    width + "x" + height + " to " + toWidth + "x" + toHeight);
        }
    }

    @Test
    void roundingIsAShiftForTheSizesAServerMeetsAndClipsOtherwise() {
        for (int[] pair : new int[][] {{600, 224}, {4000, 224}, {3000, 224}, {224, 224}, {1, 224}, {100000, 1}}) {
            assertTrue(ResampleCoefficients.compute(pair[0], pair[1]).roundsInRange(), pair[0] + " to " + pair[1]);
        }
        int one = 1 << ResampleCoefficients.PRECISION_BITS;
        int[] sums = {-one, 0, one * 17 + one / 2, 255 * one + one - 1, 300 * one};
        PillowResize.round(sums, sums.length, false);
        assertArrayEquals(new int[] {0, 0, 17, 255, 255}, sums);
    }

    private static RgbImage plainPillowResize(RgbImage source, int width, int height) {
        int[][][] image = new int[source.height()][source.width()][3];
        for (int y = 0; y < source.height(); y++) {
            for (int x = 0; x < source.width(); x++) {
                for (int c = 0; c < 3; c++) {
                    image[y][x][c] = source.sample(x, y, c);
                }
            }
        }
        ResampleCoefficients rows = ResampleCoefficients.compute(source.height(), height);
        if (width != source.width()) {
            // Pillow resizes horizontally only the rows the vertical pass reads (all when the height stays)
            int first = height != source.height() ? rows.firstUsed() : 0;
            int end = height != source.height() ? rows.endUsed() : source.height();
            ResampleCoefficients columns = ResampleCoefficients.compute(source.width(), width);
            int[][][] narrowed = new int[source.height()][width][3];
            for (int y = first; y < end; y++) {
                for (int x = 0; x < width; x++) {
                    for (int c = 0; c < 3; c++) {
                        int sum = 1 << (ResampleCoefficients.PRECISION_BITS - 1);
                        for (int k = 0; k < columns.count(x); k++) {
                            sum += image[y][columns.first(x) + k][c] * columns.weights()[columns.weightOffset(x) + k];
                        }
                        narrowed[y][x][c] = Math.min(Math.max(sum >> ResampleCoefficients.PRECISION_BITS, 0), 255);
                    }
                }
            }
            image = narrowed;
        }
        byte[] out = new byte[width * height * 3];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < 3; c++) {
                    int value;
                    if (height == source.height()) {
                        value = image[y][x][c];
                    } else {
                        int sum = 1 << (ResampleCoefficients.PRECISION_BITS - 1);
                        for (int k = 0; k < rows.count(y); k++) {
                            sum += image[rows.first(y) + k][x][c] * rows.weights()[rows.weightOffset(y) + k];
                        }
                        value = Math.min(Math.max(sum >> ResampleCoefficients.PRECISION_BITS, 0), 255);
                    }
                    out[(y * width + x) * 3 + c] = (byte) value;
                }
            }
        }
        return new RgbImage(width, height, out);
    }

    @Test
    void refusesEmptyTargets() {
        RgbImage source = new RgbImage(1, 1, new byte[3]);
        assertThrows(IllegalArgumentException.class, () -> PillowResize.resize(source, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> PillowResize.resize(source, 1, -1));
    }
}
