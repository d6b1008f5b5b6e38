package dev.vitserve.core.image;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Loads libjpeg-turbo's TurboJPEG library once per process, if it is installed (Debian and Ubuntu:
 * package {@code libturbojpeg0}). System property {@value #LIBRARY_PROPERTY}: a path or name of the
 * library to load instead, or {@code none} to use the JDK's JPEG decoder.
 */
final class TurboJpegLoader {

    /** Where to find the library, or {@code none}. */
    static final String LIBRARY_PROPERTY = "vitserve.turbojpeg.library";

    /** The functions {@link TurboJpegLibrary} calls (tjGetErrorCode and tjGetErrorStr2 need libjpeg-turbo 2.0). */
    private static final List<String> FUNCTIONS = List.of("tjInitDecompress", "tjDecompressHeader3",
            "tjDecompress2", "tjGetErrorStr2", "tjGetErrorCode", "tjDestroy");

    /** The library, where it was found, or why it could not be loaded. */
    record Outcome(TurboJpegLibrary library, String description) {
    }

    private static final class Holder {
        static final Outcome OUTCOME = load(System.getProperty(LIBRARY_PROPERTY, ""));
    }

    private TurboJpegLoader() {
    }

    /** The process's TurboJPEG library, if it could be loaded. */
    static Optional<TurboJpegLibrary> library() {
        return Optional.ofNullable(Holder.OUTCOME.library());
    }

    /** The library's file, or why it is not used. */
    static String description() {
        return Holder.OUTCOME.description();
    }

    /** What loading the library (once per process) gave. */
    static Outcome outcome() {
        return Holder.OUTCOME;
    }

    /** Tries the configured name, else {@code turbojpeg} and {@code libturbojpeg.so.0}. */
    static Outcome load(String configured) {
        if (configured.equalsIgnoreCase("none")) {
            return new Outcome(null, "switched off with -D" + LIBRARY_PROPERTY + "=none");
        }
        List<String> names = configured.isBlank() ? List.of("turbojpeg", "libturbojpeg.so.0") : List.of(configured);
        List<String> failures = new ArrayList<>();
        for (String name : names) {
            try {
                NativeLibrary nativeLibrary = NativeLibrary.getInstance(name);
                for (String function : FUNCTIONS) {
                    nativeLibrary.getFunction(function);
                }
                TurboJpegLibrary library = Native.load(name, TurboJpegLibrary.class);
                Pointer handle = library.tjInitDecompress();
                if (handle == null) {
                    failures.add(name + ": tjInitDecompress failed");
                    continue;
                }
                library.tjDestroy(handle);
                return new Outcome(library, String.valueOf(nativeLibrary.getFile()));
            } catch (LinkageError | RuntimeException e) { // also JNA itself failing to load
                failures.add(firstLine(e.getMessage()));
            }
        }
        return new Outcome(null, String.join("; ", failures));
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "not found";
        }
        int end = message.indexOf('\n');
        return end < 0 ? message : message.substring(0, end);
    }
}
