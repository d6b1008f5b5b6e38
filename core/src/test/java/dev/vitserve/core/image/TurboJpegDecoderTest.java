package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vitserve.testkit.Concurrently;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * libjpeg-turbo's decoding path on its own: choosing it or the fallback, truncated and damaged data,
 * warnings that are not truncation, recovery after failures, pooling and concurrency. (Pixel parity
 * with Pillow is checked for both paths by {@link PillowParityTest}.)
 */
class TurboJpegDecoderTest {

    private TurboJpegLibrary library;

    @BeforeEach
    void needsLibjpegTurbo() {
        assumeTrue(TurboJpegLoader.library().isPresent(), "libturbojpeg0 not installed: " + TurboJpegLoader.description());
        library = TurboJpegLoader.library().get();
    }

    private ImageDecoder decoder(TurboJpegPool pool) {
        return JpegPath.decoderWith(new TurboJpegDecoder(pool, new JpegDecoder()));
    }

    private static byte[] jpeg(String photo) {
        return PillowReference.bytes("images/" + photo);
    }

    @Test
    void theFallbackIsUsedWhenTheLibraryIsSwitchedOffOrMissing() {
        TurboJpegLoader.Outcome off = TurboJpegLoader.load("none");
        assertNull(off.library());
        assertInstanceOf(JpegDecoder.class, JpegDecoders.choose(off));
        TurboJpegLoader.Outcome missing = TurboJpegLoader.load("/nonexistent/libturbojpeg.so.0");
        assertNull(missing.library());
        assertTrue(missing.description().contains("nonexistent"), missing.description());
        assertInstanceOf(JpegDecoder.class, JpegDecoders.choose(missing));
        assertInstanceOf(TurboJpegDecoder.class, JpegDecoders.choose(TurboJpegLoader.load("")));
    }

    @Test
    void forcedFallbackDecodesTheSamePixels() throws Exception {
        for (String photo : List.of("coffee.jpg", "astronaut-progressive.jpg", "rocket.jpg", "chelsea-exif6.jpg")) {
            assertEquals(JpegPath.IMAGEIO.decoder(40_000_000).decode(jpeg(photo)),
                    JpegPath.TURBOJPEG.decoder(40_000_000).decode(jpeg(photo)), photo);
        }
    }

    @Test
    void truncatedDataIsRefusedWhereverTheCutIs() {
        ImageDecoder decoder = JpegPath.TURBOJPEG.decoder(40_000_000);
        for (String photo : List.of("coffee.jpg", "astronaut-progressive.jpg")) {
            byte[] whole = jpeg(photo);
            for (int length : new int[] {whole.length - 1, whole.length - 2, whole.length * 3 / 4, 700}) {
                ImageDecodeException e = assertThrows(ImageDecodeException.class,
                        () -> decoder.decode(Arrays.copyOf(whole, length)), photo + " cut at " + length);
                assertEquals(ImageDecodeException.Reason.CORRUPT, e.reason());
                assertEquals("the JPEG data ends early (truncated file)", e.getMessage(), photo + " cut at " + length);
            }
            ImageDecodeException header = assertThrows(ImageDecodeException.class,
                    () -> decoder.decode(Arrays.copyOf(whole, 40)));
            assertEquals(ImageDecodeException.Reason.CORRUPT, header.reason());
        }
    }

    @Test
    void aWarningThatIsNotTruncationStillGivesTheImage() throws Exception {
        // junk before the EOI marker: libjpeg warns "extraneous bytes before marker", Pillow decodes it
        byte[] whole = jpeg("coffee.jpg");
        byte[] junk = insert(whole, whole.length - 2, new byte[] {1, 2, 3});
        RgbImage image = JpegPath.TURBOJPEG.decoder(40_000_000).decode(junk);
        assertEquals(JpegPath.TURBOJPEG.decoder(40_000_000).decode(whole), image);
        assertEquals(JpegPath.IMAGEIO.decoder(40_000_000).decode(junk), image);
    }

    @Test
    void truncationIsFoundEvenWhenAnEarlierWarningHidLibjpegsOwn() {
        // libjpeg reports only its first warning: junk before the first scan's marker comes first
        byte[] whole = jpeg("coffee.jpg");
        int sos = indexOfMarker(whole, 0xDA);
        byte[] junk = insert(whole, sos, new byte[] {7, 7});
        byte[] cut = Arrays.copyOf(junk, junk.length * 3 / 4);
        ImageDecodeException e = assertThrows(ImageDecodeException.class,
                () -> JpegPath.TURBOJPEG.decoder(40_000_000).decode(cut));
        assertEquals("the JPEG data ends early (truncated file)", e.getMessage());
    }

    @Test
    void anErrorAfterAWarningIsNotMistakenForAWarning() {
        // TurboJPEG calls any failure after a warning a warning; Pillow refuses this file
        // ("broken data stream"): junk before the first scan, then a bogus Huffman table index later
        byte[] progressive = PillowReference.bytes("images/astronaut-progressive.jpg").clone();
        int lastTable = lastIndexOfMarker(progressive, 0xC4);
        progressive[lastTable + 4] = 0x5F;
        byte[] damaged = insert(progressive, indexOfMarker(progressive, 0xDA), new byte[] {7, 7});
        for (JpegPath path : JpegPath.values()) {
            ImageDecodeException e = assertThrows(ImageDecodeException.class,
                    () -> path.decoder(40_000_000).decode(damaged), path.name());
            assertEquals("the JPEG data is damaged and cannot be decoded", e.getMessage(), path.name());
        }
    }

    @Test
    void theEndOfImageMarkerIsFoundOnlyInCompleteFiles() {
        for (String photo : List.of("coffee.jpg", "astronaut-progressive.jpg", "rocket.jpg", "chelsea-exif6.jpg")) {
            byte[] whole = jpeg(photo);
            assertTrue(JpegMarkers.hasEndOfImage(whole), photo);
            assertTrue(JpegMarkers.hasEndOfImage(Arrays.copyOf(whole, whole.length + 100)), photo + " with padding");
            for (int length : new int[] {whole.length - 1, whole.length / 2, 10}) {
                assertFalse(JpegMarkers.hasEndOfImage(Arrays.copyOf(whole, length)), photo + " cut at " + length);
            }
        }
    }

    @Test
    void aDecompressorKeepsWorkingAfterFailures() throws Exception {
        TurboJpegPool pool = new TurboJpegPool(library, 1, 64 << 20);
        ImageDecoder decoder = decoder(pool);
        RgbImage expected = decoder.decode(jpeg("coffee.jpg"));
        byte[] damagedHeader = jpeg("coffee.jpg").clone();
        int dht = indexOfMarker(damagedHeader, 0xC4);
        Arrays.fill(damagedHeader, dht + 4, dht + 40, (byte) 0x7F);
        for (int round = 0; round < 3; round++) {
            assertThrows(ImageDecodeException.class, () -> decoder.decode(damagedHeader));
            assertThrows(ImageDecodeException.class, () -> decoder.decode(Arrays.copyOf(jpeg("rocket.jpg"), 300)));
            assertEquals(expected, decoder.decode(jpeg("coffee.jpg")), "round " + round);
        }
        assertEquals(1, pool.idleCount());
    }

    @Test
    void thePoolKeepsFewDecompressorsAndNoHugeBuffers() throws Exception {
        TurboJpegPool pool = new TurboJpegPool(library, 2, 512 << 10);
        ImageDecoder decoder = decoder(pool);
        decoder.decode(jpeg("coffee.jpg")); // 600x400 RGBX: a 1 MB output buffer, over the 512 kB kept
        assertEquals(1, pool.idleCount());
        assertEquals(0, pool.idleBufferBytes());

        TurboJpegPool keeping = new TurboJpegPool(library, 2, 64 << 20);
        ImageDecoder keepingDecoder = decoder(keeping);
        keepingDecoder.decode(jpeg("coffee.jpg"));
        long kept = keeping.idleBufferBytes();
        assertTrue(kept >= 600 * 400 * 4, "the buffers are kept for the next image: " + kept);
        keepingDecoder.decode(jpeg("chelsea-exif6.jpg")); // 300x451
        assertEquals(kept, keeping.idleBufferBytes(), "a smaller image reuses them");
    }

    @Test
    void pixelsLeftInTheBufferAreGivenBackWhenClosed() throws Exception {
        TurboJpegPool pool = new TurboJpegPool(library, 2, 64 << 20);
        ImageDecoder decoder = decoder(pool);
        DecodedImage image = decoder.decodeForPreprocessing(jpeg("coffee.jpg"));
        assertEquals(0, pool.idleCount(), "lent while the pixels are read");
        RgbImage copy = image.toRgbImage();
        image.close();
        image.close(); // twice is harmless
        assertEquals(1, pool.idleCount());
        assertThrows(IllegalStateException.class, image::toRgbImage);
        assertEquals(decoder.decode(jpeg("coffee.jpg")), copy);
        // turned images are copied upright to the heap at once, and the buffer goes back
        try (DecodedImage turned = decoder.decodeForPreprocessing(jpeg("chelsea-exif6.jpg"))) {
            assertEquals(1, pool.idleCount());
            assertEquals(451, turned.width());
        }
    }

    @Test
    void decodesConcurrentlyWithTheSameResults() throws Exception {
        TurboJpegPool pool = new TurboJpegPool(library, 2, 64 << 20);
        ImageDecoder decoder = decoder(pool);
        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.defaults());
        List<String> files = List.of("images/coffee.jpg", "images/astronaut-progressive.jpg", "images/rocket.jpg",
                "images/chelsea-exif6.jpg", "images-extra/cmyk.jpg", "images-extra/gray.jpg",
                "images-extra/cjpeg-arithmetic.jpg");
        List<float[]> expected = new ArrayList<>();
        for (String file : files) {
            expected.add(PreprocessorTest.tensor(preprocessor, decoder.decode(PillowReference.bytes(file))));
        }
        List<Callable<float[]>> tasks = new ArrayList<>();
        for (int round = 0; round < 6; round++) {
            for (String file : files) {
                tasks.add(() -> {
                    try (DecodedImage image = decoder.decodeForPreprocessing(PillowReference.bytes(file))) {
                        java.nio.FloatBuffer out = java.nio.FloatBuffer.allocate(preprocessor.tensorLength());
                        preprocessor.writeTensor(image, out);
                        return out.array();
                    }
                });
            }
        }
        List<float[]> results = Concurrently.call(4, tasks);
        for (int i = 0; i < results.size(); i++) {
            assertTrue(Arrays.equals(expected.get(i % files.size()), results.get(i)), files.get(i % files.size()));
        }
        assertTrue(pool.idleCount() <= 2, "at most maxIdle decompressors are kept: " + pool.idleCount());
    }

    private static int indexOfMarker(byte[] jpeg, int marker) {
        for (int i = 2; i + 1 < jpeg.length; i++) {
            if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == marker) {
                return i;
            }
        }
        throw new AssertionError("no marker " + Integer.toHexString(marker));
    }

    private static int lastIndexOfMarker(byte[] jpeg, int marker) {
        for (int i = jpeg.length - 2; i >= 2; i--) {
            if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == marker) {
                return i;
            }
        }
        throw new AssertionError("no marker " + Integer.toHexString(marker));
    }

    private static byte[] insert(byte[] data, int at, byte[] extra) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(data, 0, at);
        out.writeBytes(extra);
        out.write(data, at, data.length - at);
        return out.toByteArray();
    }
}
