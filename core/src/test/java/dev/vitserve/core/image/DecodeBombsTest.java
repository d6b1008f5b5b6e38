package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each decode bomb of issue 17 costs a bounded time and gets a clear answer: refused before
 * decoding when its structure is the bomb (too many scans, a huge size claimed), decoded within the
 * deadline when it is a valid image within the limits, and the request's allowance refuses what a
 * request adds up to. Times are CPU times of the decoding thread (robust on a busy machine) against
 * the 3 s default deadline.
 */
public class DecodeBombsTest {

    private static final long DEADLINE_MS = ImageDecoder.DEFAULT_MAX_DECODE_MS;

    private final ImageDecoder decoder = new ImageDecoder(40_000_000);

    /**
     * Damaged copies of lossy-alpha.webp and lossy.webp (820 and 990 bytes, made by mutating bytes as the
     * fuzzer does) that took TwelveMonkeys' VP8 decoder 13 s, 1.5 s and 2.6 s of CPU.
     */
    public static List<byte[]> slowWebpUnits() {
        return List.of(resource("slow/vp8-13s.webp"), resource("slow/vp8-1500ms.webp"), resource("slow/vp8-2600ms.webp"));
    }

    @Test
    void theSlowWebpUnitsAreRefusedAtOnce() {
        for (byte[] unit : slowWebpUnits()) {
            long cpu = cpuMillis(() -> assertThrows(ImageDecodeException.class, () -> decoder.decode(unit)));
            assertTrue(cpu < 100, cpu + " ms");
        }
    }

    @ParameterizedTest
    @EnumSource(JpegPath.class)
    void aProgressiveJpegWithItsLastScanRepeatedAThousandTimesIsRefusedUnread(JpegPath path) throws Exception {
        byte[] bomb = DecodeBombs.progressiveJpegWithRepeatedLastScan(6000, 6000, 1000);
        assertTrue(bomb.length < 300_000, bomb.length + " bytes");
        ImageDecoder jpegs = path.decoder(40_000_000);
        long cpu = cpuMillis(() -> {
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> jpegs.decode(bomb));
            assertEquals(ImageDecodeException.Reason.TOO_COMPLEX, e.reason());
            assertEquals("the JPEG has more than 64 scans, this server's limit (a usual progressive JPEG has about 10)",
                    e.getMessage());
        });
        assertTrue(cpu < 200, cpu + " ms");
    }

    @Test
    void aJpegAtTheScanLimitStillDecodes() throws Exception {
        byte[] jpeg = DecodeBombs.progressiveJpegWithRepeatedLastScan(64, 48, ImageDecoder.MAX_JPEG_SCANS - 6);
        assertEquals(64, decoder.decode(jpeg).width()); // the standard grey script has 6 scans
        byte[] over = DecodeBombs.progressiveJpegWithRepeatedLastScan(64, 48, ImageDecoder.MAX_JPEG_SCANS - 5);
        assertEquals(ImageDecodeException.Reason.TOO_COMPLEX,
                assertThrows(ImageDecodeException.class, () -> decoder.decode(over)).reason());
    }

    @Test
    void aBmpHeaderClaiming100000x100000IsTooManyPixels() {
        ImageDecodeException e = assertThrows(ImageDecodeException.class,
                () -> decoder.decode(DecodeBombs.bmpHeader(100_000, 100_000)));
        assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS, e.reason());
        assertTrue(e.getMessage().contains("100000x100000"), e.getMessage());
        assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS, assertThrows(ImageDecodeException.class,
                () -> decoder.decode(DecodeBombs.bmpHeader(100_000, -100_000))).reason(), "top-down rows");
    }

    @Test
    void a35ByteGifWithA6000x6000ScreenDecodesWithinTheDeadline() {
        byte[] gif = DecodeBombs.gifWithLargeScreen(6000, 6000);
        assertEquals(35, gif.length);
        long cpu = cpuMillis(() -> {
            RgbImage image = decode(gif);
            assertEquals(6000, image.width());
            assertEquals(6000, image.height());
        });
        assertTrue(cpu < DEADLINE_MS, cpu + " ms");
    }

    @Test
    void aLossy6000x6000WebpOfAFewKilobytesDecodesWithinTheDeadline() {
        byte[] webp = DecodeBombs.lossyWebp(6000, 6000);
        assertTrue(webp.length < 100_000, webp.length + " bytes");
        long cpu = cpuMillis(() -> {
            RgbImage image = decode(webp);
            assertEquals(6000 * 6000 * 3, image.pixels().length);
            assertEquals(128, image.sample(3000, 3000, 1), "flat grey");
        });
        assertTrue(cpu < DEADLINE_MS, cpu + " ms");
    }

    @Test
    void aRequestsImagesTogetherGetNoMoreThanItsAllowance() throws Exception {
        byte[] png = DecodeBombs.blackPng(8000, 5000); // 40 megapixels in about 120 KB
        RequestPixels request = new RequestPixels(100_000_000);
        for (int i = 0; i < 2; i++) {
            decoder.decodeForPreprocessing(png, request).close();
        }
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decodeForPreprocessing(png, request));
        assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS, e.reason());
        assertTrue(e.getMessage().startsWith("the request's images add up to more than 100 megapixels"), e.getMessage());
        assertEquals(64, decoder.decodeForPreprocessing(PillowReference.bytes("images-extra/gray.png"), request).width(),
                "what is left of the allowance is still there");
    }

    @Test
    void theDeadlineStopsADecodeOfTheJdksReaders() throws Exception {
        byte[] png = DecodeBombs.blackPng(8000, 5000);
        long full = cpuMillis(() -> decode(png));
        ImageDecoder hurried = new ImageDecoder(40_000_000, 20);
        // the watch runs on another thread, which a busy host may keep off the cores for a while: the
        // best of five stopped decodes says what the deadline does, the others what the host did
        long stopped = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 5 && stopped >= full / 2; attempt++) {
            stopped = Math.min(stopped, cpuMillis(() -> {
                ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> hurried.decode(png));
                assertTrue(e.reason() == ImageDecodeException.Reason.TOO_SLOW
                        || e.reason() == ImageDecodeException.Reason.BUSY, e.reason() + ": " + e.getMessage());
            }));
        }
        assertTrue(stopped < full / 2, "stopped after " + stopped + " ms of CPU at best; a whole decode takes " + full + " ms");
    }

    private RgbImage decode(byte[] data) {
        try {
            return decoder.decode(data);
        } catch (ImageDecodeException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    static long cpuMillis(Runnable work) {
        long start = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        work.run();
        return (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - start) / 1_000_000;
    }

    /** A file of this package's test resources. */
    public static byte[] resource(String name) {
        try (InputStream in = DecodeBombsTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new UncheckedIOException(new IOException("missing test resource " + name, e));
        }
    }
}
