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

    @Test
    void refusesEmptyTargets() {
        RgbImage source = new RgbImage(1, 1, new byte[3]);
        assertThrows(IllegalArgumentException.class, () -> PillowResize.resize(source, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> PillowResize.resize(source, 1, -1));
    }
}
