package dev.vitserve.core.image;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads libwebp's decoder and animation decoder once per process (Debian and Ubuntu: packages
 * {@code libwebp7} and {@code libwebpdemux2}) and says at INFO which file, or why WebP images are
 * refused without it. System property {@value #LIBRARY_PROPERTY}: a path or name of
 * {@code libwebpdemux} to load instead, or {@code none}.
 */
final class WebpLoader {

    /** Where to find the library, or {@code none}. */
    static final String LIBRARY_PROPERTY = "vitserve.webp.library";

    private static final Logger LOG = LoggerFactory.getLogger(WebpLoader.class);

    /** The functions {@link WebpLibrary} calls. */
    private static final List<String> FUNCTIONS = List.of("WebPGetFeaturesInternal", "WebPDecodeRGBInto",
            "WebPAnimDecoderNewInternal", "WebPAnimDecoderGetInfo", "WebPAnimDecoderGetNext", "WebPAnimDecoderDelete");

    /** The library, where it was found, or why it could not be loaded. */
    record Outcome(WebpLibrary library, String description) {
    }

    private static final class Holder {
        static final Outcome OUTCOME = log(load(System.getProperty(LIBRARY_PROPERTY, "")));
    }

    private WebpLoader() {
    }

    /** The process's libwebp, if it could be loaded. */
    static Optional<WebpLibrary> library() {
        return Optional.ofNullable(Holder.OUTCOME.library());
    }

    /** The library's file, or why it is not used. */
    static String description() {
        return Holder.OUTCOME.description();
    }

    /** Tries the configured name, else {@code webpdemux} and {@code libwebpdemux.so.2}. */
    static Outcome load(String configured) {
        if (configured.equalsIgnoreCase("none")) {
            return new Outcome(null, "switched off with -D" + LIBRARY_PROPERTY + "=none");
        }
        StringBuilder failures = new StringBuilder();
        for (String name : configured.isBlank() ? List.of("webpdemux", "libwebpdemux.so.2") : List.of(configured)) {
            try {
                NativeLibrary nativeLibrary = NativeLibrary.getInstance(name);
                for (String function : FUNCTIONS) {
                    nativeLibrary.getFunction(function);
                }
                return new Outcome(Native.load(name, WebpLibrary.class), String.valueOf(nativeLibrary.getFile()));
            } catch (LinkageError | RuntimeException e) { // also JNA itself failing to load
                String message = String.valueOf(e.getMessage());
                failures.append(failures.length() == 0 ? "" : "; ").append(message.lines().findFirst().orElse(name));
            }
        }
        return new Outcome(null, failures.toString());
    }

    private static Outcome log(Outcome outcome) {
        if (outcome.library() != null) {
            LOG.info("WebP decoder: libwebp ({})", outcome.description());
        } else {
            LOG.warn("WebP images are refused as unsupported: libwebp could not be loaded ({}). Install it"
                    + " (Debian/Ubuntu packages libwebp7 and libwebpdemux2).", outcome.description());
        }
        return outcome;
    }
}
