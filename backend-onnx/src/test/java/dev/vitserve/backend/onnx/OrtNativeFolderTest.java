package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A process that loaded ONNX Runtime leaves nothing in the temp folder when it exits (issue 23, finding 16). */
class OrtNativeFolderTest {

    @Test
    void aProcessThatLoadedOnnxRuntimeLeavesNoFolderBehind(@TempDir Path temp) throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + temp, "-cp", System.getProperty("java.class.path"), Child.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes());
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), output);
        assertEquals(0, child.exitValue(), output);
        assertTrue(output.contains("extracted into " + temp), output);
        try (Stream<Path> left = Files.list(temp)) {
            assertEquals(List.of(), left.toList(), "what the process left in its temp folder");
        }
    }

    /** Loads ONNX Runtime as the server does, says where it extracted, and exits. */
    public static final class Child {
        public static void main(String[] args) {
            OrtEnvironment.getEnvironment();
            OrtNativeFolder.removeAtExit();
            System.out.println("extracted into " + OrtNativeFolder.extractedFolder().getParent());
        }
    }
}
