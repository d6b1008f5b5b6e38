package dev.vitserve.server.bench;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/** The benchmark's images, made from one photo: a 600x400 JPEG, a 12-megapixel JPEG and a 600x400 PNG. */
final class BenchImages {

    private BenchImages() {
    }

    /** Writes the images into the folder; returns them by the name the report uses. */
    static Map<String, Path> make(Path photo, Path folder) throws IOException {
        BufferedImage source = ImageIO.read(photo.toFile());
        if (source == null) {
            throw new IOException(photo + " is not an image Java can read");
        }
        Map<String, Path> images = new LinkedHashMap<>();
        images.put("600x400 JPEG", jpeg(scale(source, 600, 400), folder.resolve("photo-600x400.jpg")));
        images.put("12 MP JPEG", jpeg(scale(source, 4240, 2827), folder.resolve("photo-12mp.jpg")));
        images.put("600x400 PNG", png(scale(source, 600, 400), folder.resolve("photo-600x400.png")));
        return images;
    }

    private static BufferedImage scale(BufferedImage source, int width, int height) {
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(source, 0, 0, width, height, null);
        g.dispose();
        return out;
    }

    private static Path jpeg(BufferedImage image, Path file) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.9f);
        try (ImageOutputStream out = ImageIO.createImageOutputStream(Files.newOutputStream(file))) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return file;
    }

    private static Path png(BufferedImage image, Path file) throws IOException {
        ImageIO.write(image, "png", file.toFile());
        return file;
    }
}
