package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.testkit.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Uploads that cannot become pixels get the right reason and a sentence a person understands. */
class ImageDecoderErrorsTest {

    private final ImageDecoder decoder = new ImageDecoder(40_000_000);

    private ImageDecodeException failure(byte[] data) {
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(data));
        assertHumanSentence(e.getMessage());
        return e;
    }

    static void assertHumanSentence(String message) {
        assertTrue(message != null && message.length() > 15 && message.contains(" "), "message: " + message);
        assertTrue(!message.contains("Exception") && !message.contains("java."), "no Java internals: " + message);
    }

    @Test
    void emptyUpload() {
        assertEquals(ImageDecodeException.Reason.EMPTY, failure(new byte[0]).reason());
        assertEquals(ImageDecodeException.Reason.EMPTY, failure(Fixtures.bytes(Fixtures.image("bad/empty.jpg"))).reason());
    }

    @Test
    void textIsNotAnImage() {
        ImageDecodeException e = failure(Fixtures.bytes(Fixtures.image("bad/not-an-image.txt")));
        assertEquals(ImageDecodeException.Reason.UNSUPPORTED_FORMAT, e.reason());
        assertTrue(e.getMessage().contains("JPEG, PNG, GIF, BMP or WebP"), e.getMessage());
    }

    @Test
    void otherFormatsAreUnsupported() {
        byte[] tiff = {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0};
        assertEquals(ImageDecodeException.Reason.UNSUPPORTED_FORMAT, failure(tiff).reason());
    }

    private static ImageDecodeException failure(JpegPath path, byte[] data) {
        // outside assertThrows, so that a decoder this machine lacks (libjpeg-turbo) skips the test, saying so
        var decoder = path.decoder(40_000_000);
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(data));
        assertHumanSentence(e.getMessage());
        return e;
    }

    @ParameterizedTest
    @EnumSource(JpegPath.class)
    void truncatedJpegFixture(JpegPath path) {
        assertEquals(ImageDecodeException.Reason.CORRUPT,
                failure(path, Fixtures.bytes(Fixtures.image("bad/truncated.jpg"))).reason());
    }

    @ParameterizedTest
    @EnumSource(JpegPath.class)
    void jpegCutInItsImageDataIsRefusedNotFilledWithGrey(JpegPath path) {
        for (String photo : new String[] {"coffee.jpg", "astronaut-progressive.jpg", "rocket.jpg"}) {
            byte[] jpeg = Fixtures.bytes(Fixtures.image(photo));
            for (int length : new int[] {jpeg.length / 2, jpeg.length - 10, jpeg.length - 2}) {
                ImageDecodeException e = failure(path, Arrays.copyOf(jpeg, length));
                assertEquals(ImageDecodeException.Reason.CORRUPT, e.reason(), photo + " cut at " + length);
                assertEquals("the JPEG data ends early (truncated file)", e.getMessage());
            }
        }
    }

    @Test
    void truncatedPng() {
        byte[] chelsea = Fixtures.bytes(Fixtures.image("chelsea.png"));
        ImageDecodeException e = failure(Arrays.copyOf(chelsea, chelsea.length / 2));
        assertEquals(ImageDecodeException.Reason.CORRUPT, e.reason());
        assertTrue(e.getMessage().contains("PNG"), e.getMessage());
    }

    @Test
    void truncatedWebpBmpAndGifAreRefusedLikePillowRefusesThem() {
        for (String file : new String[] {"images-extra/lossless.webp", "images-extra/lossy.webp",
            "images-extra/rgb24.bmp", "images-extra/palette8.bmp", "images-extra/gif-offset-frame.gif"}) {
            byte[] data = PillowReference.bytes(file);
            for (int length : new int[] {data.length / 2, data.length - 20}) {
                assertEquals(ImageDecodeException.Reason.CORRUPT, failure(Arrays.copyOf(data, length)).reason(),
                        file + " cut to " + length + " bytes");
            }
        }
        byte[] webp = PillowReference.bytes("images-extra/lossless.webp");
        assertTrue(failure(Arrays.copyOf(webp, webp.length - 1)).getMessage().contains("truncated"));
    }

    @Test
    void hugePngHeaderIsRefusedBeforeDecoding() {
        byte[] bomb = png(50_000, 50_000, new byte[1000]);
        assertTrue(bomb.length < 1000, "a tiny file");
        ImageDecodeException e = failure(bomb);
        assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS, e.reason());
        assertEquals("image is 50000x50000 = 2500 megapixels, over the limit of 40 megapixels", e.getMessage());
    }

    @Test
    void capIsWidthTimesHeight() throws Exception {
        byte[] chelsea = Fixtures.bytes(Fixtures.image("chelsea.png")); // 451 x 300 = 135300 pixels
        assertEquals(451, new ImageDecoder(135_300).decode(chelsea).width());
        assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS,
                assertThrows(ImageDecodeException.class, () -> new ImageDecoder(135_299).decode(chelsea)).reason());
    }

    @Test
    void capAppliesToEveryFormat() {
        assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS, assertThrows(ImageDecodeException.class,
                () -> JpegPath.IMAGEIO.decoder(100).decode(PillowReference.bytes("images/coffee.jpg"))).reason());
        ImageDecoder tiny = new ImageDecoder(100);
        for (String file : new String[] {"images/coffee.jpg", "images-extra/animated.gif", "images-extra/rgb24.bmp",
            "images-extra/lossless.webp", "images-extra/lossy.webp", "images-extra/gif-offset-frame.gif"}) {
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> tiny.decode(PillowReference.bytes(file)), file);
            assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS, e.reason(), file);
        }
    }

    @ParameterizedTest
    @EnumSource(JpegPath.class)
    void jpegHeaderClaimingAHugeImageIsRefusedBeforeDecoding(JpegPath path) {
        byte[] jpeg = Fixtures.bytes(Fixtures.image("coffee.jpg")).clone();
        // patch the frame header (SOF0 or SOF2): height and width to 60000 x 60000
        for (int i = 2; i + 9 < jpeg.length; i++) {
            if ((jpeg[i] & 0xFF) == 0xFF && ((jpeg[i + 1] & 0xFF) == 0xC0 || (jpeg[i + 1] & 0xFF) == 0xC2)) {
                jpeg[i + 5] = (byte) 0xEA;
                jpeg[i + 6] = 0x60;
                jpeg[i + 7] = (byte) 0xEA;
                jpeg[i + 8] = 0x60;
                break;
            }
        }
        assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS, failure(path, jpeg).reason());
    }

    @Test
    void pngWithAnImpossibleColourTypeIsCorrupt() {
        byte[] png = png(4, 4, new byte[4 * 13]);
        png[8 + 8 + 9] = 5; // colour type 5 does not exist
        fixCrc(png, 8);
        assertEquals(ImageDecodeException.Reason.CORRUPT, failure(png).reason());
    }

    @Test
    void garbageAfterASignatureIsCorrupt() {
        for (byte[] start : new byte[][] {
            {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF}, {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10},
            {'G', 'I', 'F', '8', '9', 'a'}, {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'}}) {
            byte[] data = Arrays.copyOf(start, 64);
            for (int i = start.length; i < data.length; i++) {
                data[i] = (byte) (i * 37);
            }
            assertEquals(ImageDecodeException.Reason.CORRUPT, failure(data).reason(), new String(start, StandardCharsets.ISO_8859_1));
        }
    }

    /** A minimal PNG: 8-bit RGB, the given (uncompressed) scanline bytes deflated into one IDAT. */
    static byte[] png(int width, int height, byte[] scanlines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        Deflater deflater = new Deflater(9);
        deflater.setInput(scanlines);
        deflater.finish();
        byte[] buffer = new byte[scanlines.length + 64];
        int n = deflater.deflate(buffer);
        deflater.end();
        chunk(out, "IDAT", Arrays.copyOf(buffer, n));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    static void chunk(ByteArrayOutputStream out, String type, byte[] body) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(body.length).array());
        byte[] typeBytes = type.getBytes(StandardCharsets.ISO_8859_1);
        out.writeBytes(typeBytes);
        out.writeBytes(body);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(body);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    /** Recomputes the CRC of the chunk starting at {@code offset}. */
    private static void fixCrc(byte[] png, int offset) {
        int length = ByteBuffer.wrap(png, offset, 4).getInt();
        CRC32 crc = new CRC32();
        crc.update(png, offset + 4, 4 + length);
        ByteBuffer.wrap(png, offset + 8 + length, 4).putInt((int) crc.getValue());
    }
}
