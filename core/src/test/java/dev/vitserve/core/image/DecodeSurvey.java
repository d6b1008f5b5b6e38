package dev.vitserve.core.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Not a test (surefire does not run it): the worst-case decode survey of issue 17. For each format
 * and decoder it decodes the costliest inputs known per byte (decode bombs within the limits,
 * inputs at the bounds, the slow damaged units the fuzzer found) with the server's default limits
 * (40 megapixels, 64 JPEG scans, 3 s deadline) and prints, per input, its size, the decoding
 * thread's CPU time (median of 3 runs, robust on a busy machine), milliseconds per KB and the
 * outcome, then the slowest input per format in ms per KB (of those taking 5 ms or more). Run from
 * the repository root:
 *
 * <pre>
 * mvn -q -B -pl core -am test-compile dependency:build-classpath -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test \
 *   &amp;&amp; java -Xmx4g -Dvitserve.testdata=testkit/fixtures -cp "core/target/test-classes:core/target/classes:$(cat core/target/test.classpath)" \
 *      dev.vitserve.core.image.DecodeSurvey
 * </pre>
 */
public final class DecodeSurvey {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final int RUNS = 3;
    /** Inputs answered faster than this (refusals from the header) are below the timer's noise: not ranked. */
    private static final double MIN_MS = 5;

    private DecodeSurvey() {
    }

    /** One input of the survey: the decoder family it tests, what it is, its bytes. */
    private record Input(String format, String what, byte[] data) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, ImageDecoder> decoders = new LinkedHashMap<>();
        decoders.put("JPEG (libjpeg-turbo)", JpegPath.TURBOJPEG.decoder(40_000_000));
        decoders.put("JPEG (JDK)", JpegPath.IMAGEIO.decoder(40_000_000));
        ImageDecoder standard = new ImageDecoder(40_000_000);
        List<Input> inputs = inputs();
        Map<String, double[]> worst = new LinkedHashMap<>();
        Map<String, String> worstWhat = new LinkedHashMap<>();
        System.out.printf(Locale.ROOT, "%-22s %-58s %9s %9s %9s  %s%n", "decoder", "input", "bytes", "CPU ms", "ms/KB",
                "outcome");
        for (Input input : inputs) {
            List<String> families = input.format().equals("JPEG") ? List.copyOf(decoders.keySet()) : List.of(input.format());
            for (String family : families) {
                ImageDecoder decoder = decoders.getOrDefault(family, standard);
                String[] outcome = new String[1];
                double ms = medianCpuMs(() -> outcome[0] = outcome(decoder, input.data()));
                double perKb = ms / (input.data().length / 1024.0);
                System.out.printf(Locale.ROOT, "%-22s %-58s %9d %9.1f %9.2f  %s%n", family, input.what(),
                        input.data().length, ms, perKb, outcome[0]);
                if (ms >= MIN_MS && perKb > worst.getOrDefault(family, new double[] {-1, 0})[0]) {
                    worst.put(family, new double[] {perKb, ms, input.data().length});
                    worstWhat.put(family, input.what() + " -> " + outcome[0]);
                }
            }
        }
        System.out.println();
        System.out.println("| format, decoder | slowest input found | bytes | CPU ms | ms per KB |");
        System.out.println("| --- | --- | --- | --- | --- |");
        for (Map.Entry<String, double[]> e : worst.entrySet()) {
            double[] w = e.getValue();
            System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.1f | %.1f |%n", e.getKey(), worstWhat.get(e.getKey()),
                    w[2], w[1], w[0]);
        }
    }

    private static List<Input> inputs() throws IOException {
        List<Input> inputs = new ArrayList<>();
        inputs.add(new Input("JPEG", "progressive 6000x6000 grey, 64 scans (the limit)",
                DecodeBombs.progressiveJpegWithRepeatedLastScan(6000, 6000, ImageDecoder.MAX_JPEG_SCANS - 6)));
        inputs.add(new Input("JPEG", "progressive 6000x6000 grey, last scan repeated 1000 times",
                DecodeBombs.progressiveJpegWithRepeatedLastScan(6000, 6000, 1000)));
        inputs.add(new Input("JPEG", "baseline 6000x6000 flat colour", jpeg(6000, 6000, false)));
        inputs.add(new Input("JPEG", "progressive 6000x6000 flat colour (4:2:0, 10 scans)", jpeg(6000, 6000, true)));
        inputs.add(new Input("PNG", "8000x5000 black RGB, deflate 1:1000", DecodeBombs.blackPng(8000, 5000)));
        inputs.add(new Input("PNG", "header of 100000x100000", pngHeaderClaiming(100_000, 100_000)));
        inputs.add(new Input("GIF", "35 bytes, 6000x6000 screen, 1x1 frame", DecodeBombs.gifWithLargeScreen(6000, 6000)));
        inputs.add(new Input("GIF", "6000x6000 flat frame, LZW", imageIo(6000, 6000, "gif")));
        inputs.add(new Input("BMP", "6000x6000 8-bit RLE, runs of 255", rle8Bmp(6000, 6000)));
        inputs.add(new Input("BMP", "header of 100000x100000", DecodeBombs.bmpHeader(100_000, 100_000)));
        inputs.add(new Input("WebP lossless", "6000x6000 tiles (Pillow, 12 KB)",
                Files.readAllBytes(Path.of(System.getProperty("vitserve.testdata", "testkit/fixtures"),
                        "images-extra/lossless-6000x6000.webp"))));
        inputs.add(new Input("WebP lossy", "6000x6000 flat grey", DecodeBombs.lossyWebp(6000, 6000)));
        int n = 0;
        for (byte[] unit : DecodeBombsTest.slowWebpUnits()) {
            inputs.add(new Input("WebP lossy", "damaged unit " + ++n + " (TwelveMonkeys: 1.5-13 s)", unit));
        }
        return inputs;
    }

    private static String outcome(ImageDecoder decoder, byte[] data) {
        try (DecodedImage image = decoder.decodeForPreprocessing(data)) {
            return "decoded " + image.width() + "x" + image.height();
        } catch (ImageDecodeException e) {
            return e.reason() + ": " + e.getMessage();
        }
    }

    private static double medianCpuMs(Runnable work) {
        double[] ms = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long start = THREADS.getCurrentThreadCpuTime();
            work.run();
            ms[i] = (THREADS.getCurrentThreadCpuTime() - start) / 1e6;
        }
        Arrays.sort(ms);
        return ms[RUNS / 2];
    }

    private static byte[] jpeg(int width, int height, boolean progressive) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        javax.imageio.ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (javax.imageio.stream.MemoryCacheImageOutputStream stream = new javax.imageio.stream.MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            javax.imageio.ImageWriteParam param = writer.getDefaultWriteParam();
            param.setProgressiveMode(progressive ? javax.imageio.ImageWriteParam.MODE_DEFAULT
                    : javax.imageio.ImageWriteParam.MODE_DISABLED);
            writer.write(null, new javax.imageio.IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    private static byte[] imageIo(int width, int height, String format) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, format, out);
        return out.toByteArray();
    }

    private static byte[] pngHeaderClaiming(int width, int height) {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        ImageDecoderErrorsTest.chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put(new byte[] {8, 2, 0, 0, 0}).array());
        return png.toByteArray();
    }

    /** An 8-bit BMP with RLE8 compression: each row runs of 255 pixels (2 bytes each), then end of line. */
    private static byte[] rle8Bmp(int width, int height) {
        ByteArrayOutputStream rle = new ByteArrayOutputStream();
        for (int y = 0; y < height; y++) {
            for (int left = width; left > 0; left -= 255) {
                rle.write(Math.min(255, left));
                rle.write(1);
            }
            rle.write(0);
            rle.write(0);
        }
        rle.write(0);
        rle.write(1);
        byte[] pixels = rle.toByteArray();
        int offset = 14 + 40 + 256 * 4;
        ByteBuffer bmp = ByteBuffer.allocate(offset + pixels.length).order(ByteOrder.LITTLE_ENDIAN);
        bmp.put((byte) 'B').put((byte) 'M').putInt(offset + pixels.length).putInt(0).putInt(offset);
        bmp.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 8).putInt(1)
                .putInt(pixels.length).putInt(2835).putInt(2835).putInt(256).putInt(0);
        for (int i = 0; i < 256; i++) {
            bmp.putInt(i * 0x010101);
        }
        bmp.put(pixels);
        return bmp.array();
    }
}
