package dev.vitserve.core.image;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import javax.imageio.metadata.IIOMetadata;
import org.w3c.dom.Node;

/**
 * Decodes the first frame of a GIF with the JDK's ImageIO reader and places it on the logical
 * screen as Pillow does for frame 0: the canvas is the logical screen (enlarged if the frame
 * reaches past it), pixels outside the frame take the frame's transparent index, or index 0,
 * and everything goes through the frame's palette (local, else global). Later frames are ignored.
 */
final class GifDecoder implements FormatDecoder {

    private static final String STREAM_FORMAT = "javax_imageio_gif_stream_1.0";
    private static final String IMAGE_FORMAT = "javax_imageio_gif_image_1.0";

    /** The frame's raster and indices, the canvas (1 each, 4 for a frame that is not indexed) and the RGB pixels (3). */
    @Override
    public int bytesPerPixel() {
        return 8;
    }

    @Override
    public RgbImage decode(byte[] data, DecodeLimits limits) throws ImageDecodeException, IOException {
        try (ImageReaderSession session = ImageReaderSession.open(data, ImageFormat.GIF, "gif", "com.sun.imageio.plugins.gif.", true)) {
            int frameWidth = session.reader().getWidth(0);
            int frameHeight = session.reader().getHeight(0);
            Node screen = child(tree(session.reader().getStreamMetadata(), STREAM_FORMAT), "LogicalScreenDescriptor");
            Node image = tree(session.reader().getImageMetadata(0), IMAGE_FORMAT);
            Node descriptor = child(image, "ImageDescriptor");
            int left = intAttribute(descriptor, "imageLeftPosition", 0);
            int top = intAttribute(descriptor, "imageTopPosition", 0);
            long width = Math.max(intAttribute(screen, "logicalScreenWidth", 0), (long) left + frameWidth);
            long height = Math.max(intAttribute(screen, "logicalScreenHeight", 0), (long) top + frameHeight);
            limits.checkPixels(ImageFormat.GIF, width, height);

            BufferedImage frame = session.underDeadline(limits, reader -> reader.read(0, null));
            if (!(frame.getColorModel() instanceof IndexColorModel palette)) {
                return RasterPixels.toRgb(frame);
            }
            byte[] frameIndices = RasterPixels.indices(frame.getRaster());
            if (width == frame.getWidth() && height == frame.getHeight()) {
                return new RgbImage((int) width, (int) height, RasterPixels.expandPalette(frameIndices, palette));
            }
            Node control = child(image, "GraphicControlExtension");
            boolean transparent = "TRUE".equalsIgnoreCase(attribute(control, "transparentColorFlag"));
            byte fill = (byte) (transparent ? intAttribute(control, "transparentColorIndex", 0) : 0);
            int w = (int) width;
            byte[] canvas = new byte[w * (int) height];
            java.util.Arrays.fill(canvas, fill);
            int fw = frame.getWidth();
            for (int y = 0; y < frame.getHeight(); y++) {
                System.arraycopy(frameIndices, y * fw, canvas, (top + y) * w + left, fw);
            }
            return new RgbImage(w, (int) height, RasterPixels.expandPalette(canvas, palette));
        }
    }

    private static Node tree(IIOMetadata metadata, String format) {
        return metadata == null ? null : metadata.getAsTree(format);
    }

    private static Node child(Node parent, String name) {
        if (parent == null) {
            return null;
        }
        for (Node node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (name.equals(node.getNodeName())) {
                return node;
            }
        }
        return null;
    }

    private static String attribute(Node node, String name) {
        if (node == null || node.getAttributes() == null) {
            return null;
        }
        Node attribute = node.getAttributes().getNamedItem(name);
        return attribute == null ? null : attribute.getNodeValue();
    }

    private static int intAttribute(Node node, String name, int fallback) {
        String value = attribute(node, name);
        try {
            return value == null ? fallback : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
