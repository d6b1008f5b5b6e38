package dev.vitserve.backend.onnx;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes, when the process exits, the temporary folder ONNX Runtime's Java binding extracts its native libraries
 * into ({@code onnxruntime-java*}): the binding marks the folder for deletion before the files in it, so the JVM
 * tries the folder while it is still full and every start and stop leaves an empty one behind. Linux keeps a loaded
 * library mapped after its file is gone, and a provider loaded later (CUDA) is extracted before this runs.
 */
final class OrtNativeFolder {

    private static final Logger LOG = LoggerFactory.getLogger(OrtNativeFolder.class);
    private static final AtomicBoolean REGISTERED = new AtomicBoolean();

    private OrtNativeFolder() {
    }

    /** Registers the removal once, after ONNX Runtime is loaded; does nothing when the folder cannot be found. */
    static void removeAtExit() {
        if (!REGISTERED.compareAndSet(false, true)) {
            return;
        }
        Path folder = extractedFolder();
        if (folder == null) {
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> remove(folder), "vitserve-ort-temp-cleanup"));
    }

    /** The folder the binding extracted into, read from its private field; null if it has none or it moved. */
    static Path extractedFolder() {
        try {
            Field field = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("tempDirectory");
            field.setAccessible(true);
            Object value = field.get(null);
            return value instanceof Path path && path.getFileName().toString().startsWith("onnxruntime-java") ? path : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("ONNX Runtime's native library folder is not known to this version of the binding: {}", e.toString());
            return null;
        }
    }

    /** Deletes the folder and what is in it, deepest first. */
    static void remove(Path folder) {
        if (!Files.isDirectory(folder)) {
            return;
        }
        try (Stream<Path> entries = Files.walk(folder)) {
            entries.sorted(Comparator.reverseOrder()).forEach(entry -> {
                try {
                    Files.deleteIfExists(entry);
                } catch (IOException e) {
                    // left for the temp folder's own cleaning
                }
            });
        } catch (IOException e) {
            // the folder went away meanwhile
        }
    }
}
