package dev.vitserve.core.image;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the JPEG decoder once per process and says which at INFO: libjpeg-turbo's TurboJPEG
 * ({@link TurboJpegDecoder}) when the library loads, else the JDK's ImageIO reader
 * ({@link JpegDecoder}). Both give Pillow's pixels (see the package documentation).
 */
final class JpegDecoders {

    private static final Logger LOG = LoggerFactory.getLogger(JpegDecoders.class);

    /** Most idle decompressors kept: one per core covers the preprocessing threads that run at once. */
    private static final int MAX_IDLE = Math.max(2, Runtime.getRuntime().availableProcessors());

    /** Largest buffer kept per decompressor: an RGB image of about 21 megapixels. */
    private static final long MAX_KEPT_BUFFER_BYTES = 64L << 20;

    private static final class Holder {
        static final FormatDecoder PREFERRED = choose(TurboJpegLoader.outcome());
    }

    private JpegDecoders() {
    }

    /** The decoder to use: the same instance (and decompressor pool) for every caller. */
    static FormatDecoder preferred() {
        return Holder.PREFERRED;
    }

    /** libjpeg-turbo's decoder with a pool of its own when the library loaded, else the JDK's; logged. */
    static FormatDecoder choose(TurboJpegLoader.Outcome loaded) {
        if (loaded.library() != null) {
            LOG.info("JPEG decoder: libjpeg-turbo through TurboJPEG ({})", loaded.description());
            return new TurboJpegDecoder(new TurboJpegPool(loaded.library(), MAX_IDLE, MAX_KEPT_BUFFER_BYTES),
                    new JpegDecoder());
        }
        LOG.info("JPEG decoder: the JDK's ImageIO reader, because libjpeg-turbo's TurboJPEG library could not be"
                + " loaded ({}). Installing it (Debian/Ubuntu package libturbojpeg0) makes JPEG decoding about"
                + " twice as fast, with the same pixels.", loaded.description());
        return new JpegDecoder();
    }
}
