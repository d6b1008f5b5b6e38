package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The warm-up decodes a real image of every format, and says which it could not. */
class DecoderWarmUpTest {

    /** The warm-up images' pixels, as testkit made them: red across, green down, blue along the diagonal. */
    private static int expected(int x, int y, int channel) {
        return switch (channel) {
            case 0 -> x * 255 / (DecoderWarmUp.WIDTH - 1);
            case 1 -> y * 255 / (DecoderWarmUp.HEIGHT - 1);
            default -> (x + y) * 8 % 256;
        };
    }

    @Test
    void everyFormatIsDecodedToItsPixels() throws Exception {
        ImageDecoder decoder = new ImageDecoder(1000);
        DecoderWarmUp.Report report = DecoderWarmUp.run(decoder);
        List<ImageFormat> all = new ArrayList<>(List.of(ImageFormat.values()));
        if (WebpLoader.library().isEmpty()) {
            all.remove(ImageFormat.WEBP);
            assertTrue(report.unavailable().get(ImageFormat.WEBP).contains("libwebp"), report.summary());
            assertTrue(report.summary().contains("not decoded: WebP"), report.summary());
        } else {
            assertTrue(report.unavailable().isEmpty(), report.summary());
        }
        assertEquals(all, report.decoded(), report.summary());
        assertTrue(report.summary().startsWith("image decoders warmed up in "), report.summary());

        for (ImageFormat format : report.decoded()) {
            RgbImage image = decoder.decode(DecoderWarmUp.sample(format));
            boolean lossless = format == ImageFormat.PNG || format == ImageFormat.BMP;
            double error = 0;
            for (int y = 0; y < image.height(); y++) {
                for (int x = 0; x < image.width(); x++) {
                    for (int c = 0; c < 3; c++) {
                        int diff = Math.abs(image.sample(x, y, c) - expected(x, y, c));
                        if (lossless) {
                            assertEquals(0, diff, format + " pixel " + x + "," + y + " channel " + c);
                        }
                        error += diff;
                    }
                }
            }
            double mean = error / (image.width() * image.height() * 3);
            assertTrue(mean < 12, format + " decodes to the warm-up picture: mean error " + mean);
        }
    }
}
