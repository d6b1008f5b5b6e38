package dev.vitserve.core.explain;

import dev.vitserve.core.image.PreprocessorConfig;
import dev.vitserve.core.inference.InferenceScheduler;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/**
 * A heatmap drawn over the image as the model saw it: the tensor de-normalized back to 8-bit colour (after EXIF,
 * resize and crop, exactly what the network read), enlarged by a whole factor to at least {@value #MIN_SIDE} pixels on
 * its short side, each cell's scaled value blended in at {@value #OPACITY} opacity through a blue-green-yellow-red
 * colour map, and under it a legend strip from 0 (left) to 1 (right). Encoded by the JDK's PNG writer.
 */
public final class HeatmapPng {

    /** The short side of the drawing, at least (small models see tiny images). */
    static final int MIN_SIDE = 224;
    /** The heat's opacity over the image. */
    static final double OPACITY = 0.5;
    private static final int LEGEND = 12;
    private static final int MAX_SCALE = 16;
    /** The colour map's stops, from 0 to 1 at even steps (close to "turbo"). */
    private static final int[][] STOPS = {{48, 18, 59}, {70, 134, 251}, {27, 229, 181}, {164, 252, 60},
        {250, 186, 57}, {228, 70, 11}, {122, 4, 3}};

    private HeatmapPng() {
    }

    /** The PNG of {@code heatmap} over {@code tensor}. */
    public static byte[] render(float[] tensor, InferenceScheduler.TensorShape shape, PreprocessorConfig processor,
                                Heatmap heatmap) {
        int h = shape.height();
        int w = shape.width();
        int scale = Math.max(1, Math.min(MAX_SCALE, (MIN_SIDE + Math.min(h, w) - 1) / Math.min(h, w)));
        BufferedImage image = new BufferedImage(w * scale, h * scale + LEGEND, BufferedImage.TYPE_INT_RGB);
        Grid grid = heatmap.grid();
        for (int y = 0; y < h; y++) {
            int cellRow = cellOf(y, h, grid.rows());
            for (int x = 0; x < w; x++) {
                int heat = colour(heatmap.scaled()[cellRow * grid.cols() + cellOf(x, w, grid.cols())]);
                int rgb = 0;
                for (int c = 0; c < 3; c++) {
                    int channel = Math.min(c, shape.channels() - 1);
                    double seen = pixel(tensor[(channel * h + y) * w + x], channel, processor);
                    double blended = (1 - OPACITY) * seen + OPACITY * ((heat >> (16 - 8 * c)) & 0xff);
                    rgb = (rgb << 8) | (int) Math.round(Math.max(0, Math.min(255, blended)));
                }
                for (int dy = 0; dy < scale; dy++) {
                    for (int dx = 0; dx < scale; dx++) {
                        image.setRGB(x * scale + dx, y * scale + dy, rgb);
                    }
                }
            }
        }
        for (int x = 0; x < image.getWidth(); x++) {
            int rgb = colour(image.getWidth() == 1 ? 1 : x / (image.getWidth() - 1.0));
            for (int y = h * scale; y < image.getHeight(); y++) {
                image.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return png.toByteArray();
    }

    /** The cell index along one axis of a tensor coordinate, as {@link Grid} cuts it. */
    private static int cellOf(int coordinate, int size, int cells) {
        // the largest i with floor(i * size / cells) <= coordinate
        int i = (int) (((long) coordinate * cells + cells - 1) / size);
        while (i > 0 && (long) i * size / cells > coordinate) {
            i--;
        }
        while (i + 1 < cells && (long) (i + 1) * size / cells <= coordinate) {
            i++;
        }
        return i;
    }

    /** A tensor value back in 0..255: normalization and rescaling undone. */
    private static double pixel(float value, int channel, PreprocessorConfig processor) {
        double v = value;
        if (processor.doNormalize()) {
            float[] mean = processor.imageMean();
            float[] std = processor.imageStd();
            v = v * std[Math.min(channel, std.length - 1)] + mean[Math.min(channel, mean.length - 1)];
        }
        return processor.doRescale() ? v / processor.rescaleFactor() : v;
    }

    /** The colour map at {@code t} in [0, 1], as 0xRRGGBB. */
    static int colour(double t) {
        double at = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
        int lower = Math.min(STOPS.length - 2, (int) at);
        double f = at - lower;
        int rgb = 0;
        for (int c = 0; c < 3; c++) {
            rgb = (rgb << 8) | (int) Math.round(STOPS[lower][c] + f * (STOPS[lower + 1][c] - STOPS[lower][c]));
        }
        return rgb;
    }
}
