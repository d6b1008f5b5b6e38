package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On the trained digits ViT, attention rollout points at the strokes: over the 300 validation digits, the quarter of
 * the 8x8 patch cells with the most rollout covers most of each digit's ink (ink: the pixels darker than the midpoint
 * of the image's 5th and 95th luminance percentiles; each pixel of the photo falls in the cell its place in the image
 * maps to, as the resize to 32x32 maps it). By chance a quarter of the cells would cover about a quarter of the ink, and
 * since the strokes spread over more than a quarter of the cells, even the 16 inkiest cells cover only about 72%: the
 * issue's "70% of the ink" is out of reach for any explanation at this grid, so the bars are about chance and that best.
 * Measured (ONNX Runtime, fp32): rollout 51.0% (the 16 inkiest cells: 71.9%) over the 300 digits; occlusion 33.8%
 * over the first 50.
 */
@ExtendWith(VertxExtension.class)
class DigitsRolloutTest {

    /** The share of ink rollout's top quarter of the cells covers, on average: measured 0.510, twice chance (0.25). */
    static final double ROLLOUT_BAR = 0.45;
    /** Of the share the 16 inkiest cells cover: measured 0.70 of it. */
    static final double OF_BEST = 0.6;
    /** Occlusion's share: measured 0.338; well above chance (0.25): over 3 standard errors of a random pick. */
    static final double OCCLUSION_BAR = 0.30;
    /** Digits explained by occlusion too (65 engine images each). */
    static final int OCCLUDED = 50;

    @Test
    void theTopQuarterOfRolloutCellsCoversMostOfTheInk(Vertx vertx) throws Exception {
        List<Fixtures.LabelledImage> digits = Fixtures.digitsValidation();
        assertEquals(300, digits.size());
        try (RunningServer server = RunningServer.startModel(vertx, Fixtures.digitsVit(), "onnx", "--device", "cpu")) {
            double[] rollout = coverage(server, "/v1/explain", digits);
            double[] occlusion = coverage(server, "/v1/explain?method=occlusion", digits.subList(0, OCCLUDED));
            System.out.printf("digits-vit: the top 25%% of the 8x8 cells cover, on average, %.1f%% of the ink by"
                    + " rollout over %d validation digits (the best 16 cells could cover %.1f%%; chance 25%%), and %.1f%%"
                    + " by occlusion over the first %d (best %.1f%%)%n", 100 * rollout[0], digits.size(),
                    100 * rollout[1], 100 * occlusion[0], OCCLUDED, 100 * occlusion[1]);
            assertTrue(rollout[0] >= ROLLOUT_BAR, "the top quarter of the rollout cells covers " + rollout[0]
                    + " of the ink");
            assertTrue(rollout[0] >= OF_BEST * rollout[1], "rollout covers " + rollout[0] + ", the best " + rollout[1]);
            assertTrue(occlusion[0] >= OCCLUSION_BAR, "the top quarter of the occlusion cells covers " + occlusion[0]);
        }
    }

    /** The mean share of ink the top quarter of the explained cells covers, and the best a quarter could cover. */
    private static double[] coverage(RunningServer server, String uri, List<Fixtures.LabelledImage> digits)
            throws Exception {
        double sum = 0;
        double best = 0;
        for (Fixtures.LabelledImage digit : digits) {
            HttpResponse<Buffer> answer = server.postImage(uri, Fixtures.bytes(digit.file()), "image/png");
            assertEquals(200, answer.statusCode(), answer.bodyAsString());
            JsonArray rows = answer.bodyAsJsonObject().getJsonArray("values");
            int r = rows.size();
            int c = rows.getJsonArray(0).size();
            double[] explained = new double[r * c];
            for (int i = 0; i < explained.length; i++) {
                explained[i] = rows.getJsonArray(i / c).getDouble(i % c);
            }
            long[] ink = inkPerCell(ImageIO.read(digit.file().toFile()), r, c);
            long total = Arrays.stream(ink).sum();
            sum += covered(ink, explained) / (double) total;
            best += covered(ink, Arrays.stream(ink).asDoubleStream().toArray()) / (double) total;
        }
        return new double[] {sum / digits.size(), best / digits.size()};
    }

    /** The ink in the quarter of the cells with the highest scores. */
    private static long covered(long[] ink, double[] scores) {
        Integer[] order = new Integer[scores.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
        long covered = 0;
        for (int k = 0; k < scores.length / 4; k++) {
            covered += ink[order[k]];
        }
        return covered;
    }

    /**
     * The ink pixels of a photo per cell of an r x c grid (row-major): the pixels darker than the midpoint of the
     * 5th and 95th luminance percentiles, each in the cell its place in the image maps to.
     */
    private static long[] inkPerCell(BufferedImage image, int r, int c) {
        int w = image.getWidth();
        int h = image.getHeight();
        Raster raster = image.getRaster();
        double[] luminance = new double[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                luminance[y * w + x] = 0.299 * raster.getSample(x, y, 0) + 0.587 * raster.getSample(x, y, 1)
                        + 0.114 * raster.getSample(x, y, 2);
            }
        }
        double[] sorted = luminance.clone();
        Arrays.sort(sorted);
        double threshold = (sorted[sorted.length / 20] + sorted[sorted.length * 19 / 20]) / 2;
        long[] ink = new long[r * c];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (luminance[y * w + x] < threshold) {
                    ink[(y * r / h) * c + x * c / w]++;
                }
            }
        }
        return ink;
    }
}
