package dev.vitserve.core.image;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Small files that cost far more to decode than their size, made on the fly (never committed):
 * the decode bombs of issue 17, for the tests that show each is bounded.
 */
public final class DecodeBombs {

    /** libwebp's simple encoding API, to make a lossy WebP of any size. */
    interface WebpEncoder extends Library {
        /** {@code WebPEncodeRGB}: the size of the WebP written to {@code *output} (free it with WebPFree). */
        long WebPEncodeRGB(Pointer rgb, int width, int height, int stride, float quality, PointerByReference output);

        /** {@code WebPFree}. */
        void WebPFree(Pointer memory);
    }

    private DecodeBombs() {
    }

    /**
     * A progressive JPEG of flat grey (the JDK's encoder, libjpeg's standard script) whose last scan
     * is repeated {@code repeats} more times: a few bytes per repeat, a pass over every block each.
     */
    public static byte[] progressiveJpegWithRepeatedLastScan(int width, int height, int repeats) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(jpeg)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        byte[] data = jpeg.toByteArray();
        int lastScan = -1;
        for (int i = 2; i + 1 < data.length; i++) {
            if ((data[i] & 0xFF) == 0xFF && (data[i + 1] & 0xFF) == 0xDA) {
                lastScan = i;
            }
        }
        int end = data.length - 2; // the EOI marker
        ByteArrayOutputStream bomb = new ByteArrayOutputStream();
        bomb.write(data, 0, end);
        for (int i = 0; i < repeats; i++) {
            bomb.write(data, lastScan, end - lastScan);
        }
        bomb.write(data, end, 2);
        return bomb.toByteArray();
    }

    /** A 35-byte GIF: a {@code width x height} logical screen with one 1x1 frame (Pillow fills the rest). */
    public static byte[] gifWithLargeScreen(int width, int height) {
        ByteBuffer gif = ByteBuffer.allocate(35).order(ByteOrder.LITTLE_ENDIAN);
        gif.put("GIF89a".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        gif.putShort((short) width).putShort((short) height).put((byte) 0x80).put((byte) 0).put((byte) 0);
        gif.put(new byte[] {0, 0, 0, (byte) 255, (byte) 255, (byte) 255}); // a two-colour global palette
        gif.put((byte) 0x2C).putShort((short) 0).putShort((short) 0).putShort((short) 1).putShort((short) 1).put((byte) 0);
        gif.put(new byte[] {2, 2, 0x44, 0x01, 0, 0x3B}); // LZW: clear, pixel 0, end; then the trailer
        return gif.array();
    }

    /** A black 8-bit RGB PNG of {@code width x height}, deflated at the best ratio (about 1:1000). */
    public static byte[] blackPng(int width, int height) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        Deflater deflater = new Deflater(9);
        try (DeflaterOutputStream out = new DeflaterOutputStream(idat, deflater, 1 << 16)) {
            byte[] row = new byte[1 + 3 * width];
            for (int y = 0; y < height; y++) {
                out.write(row);
            }
        } finally {
            deflater.end();
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        ImageDecoderErrorsTest.chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put(new byte[] {8, 2, 0, 0, 0}).array());
        ImageDecoderErrorsTest.chunk(png, "IDAT", idat.toByteArray());
        ImageDecoderErrorsTest.chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    /** The 54-byte headers of a 24-bit BMP claiming {@code width x height}, without the pixels. */
    public static byte[] bmpHeader(int width, int height) {
        ByteBuffer bmp = ByteBuffer.allocate(54).order(ByteOrder.LITTLE_ENDIAN);
        bmp.put((byte) 'B').put((byte) 'M').putInt(54).putInt(0).putInt(54);
        bmp.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 24);
        return bmp.array();
    }

    private static final java.util.Map<Long, byte[]> LOSSY_WEBPS = new java.util.concurrent.ConcurrentHashMap<>();

    /** A lossy WebP of {@code width x height} flat grey from libwebp's encoder (tens of KB at 6000x6000), made once. */
    public static byte[] lossyWebp(int width, int height) {
        return LOSSY_WEBPS.computeIfAbsent((long) width << 32 | height, size -> encodeLossyWebp(width, height)).clone();
    }

    private static byte[] encodeLossyWebp(int width, int height) {
        WebpEncoder encoder = Native.load("webp", WebpEncoder.class);
        try (com.sun.jna.Memory rgb = new com.sun.jna.Memory(3L * width * height)) {
            rgb.setMemory(0, rgb.size(), (byte) 128);
            PointerByReference output = new PointerByReference();
            long size = encoder.WebPEncodeRGB(rgb, width, height, 3 * width, 50f, output);
            if (size == 0) {
                throw new IllegalStateException("libwebp could not encode a " + width + "x" + height + " image");
            }
            byte[] webp = output.getValue().getByteArray(0, (int) size);
            encoder.WebPFree(output.getValue());
            return webp;
        }
    }
}
