package dev.vitserve.server.bench;

import dev.vitserve.core.image.PreprocessorConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Pillow's time for the same work, as Hugging Face does it (open, EXIF transpose, convert to RGB,
 * BILINEAR resize, rescale in float64, normalize in float32), when a Python with Pillow and
 * numpy is installed (Debian: python3-pil, python3-numpy).
 */
final class PillowBaseline {

    private static final String SCRIPT = String.join("\n",
            "import sys, time, numpy as np",
            "from PIL import Image, ImageOps",
            "w, h, runs, scale = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])",
            "mean = np.array([float(v) for v in sys.argv[5].split(',')], dtype=np.float32)",
            "std = np.array([float(v) for v in sys.argv[6].split(',')], dtype=np.float32)",
            "def once(path):",
            "    img = ImageOps.exif_transpose(Image.open(path)).convert('RGB')",
            "    img = img.resize((w, h), resample=Image.BILINEAR)",
            "    x = (np.asarray(img).astype(np.float64) * scale).astype(np.float32)",
            "    return ((x - mean) / std).transpose(2, 0, 1)",
            "for path in sys.argv[7:]:",
            "    for _ in range(max(3, runs // 3)): once(path)",
            "    times = []",
            "    for _ in range(runs):",
            "        t = time.perf_counter(); once(path); times.append((time.perf_counter() - t) * 1000)",
            "    times.sort()",
            "    print(path, times[len(times) // 2], flush=True)",
            "");

    private PillowBaseline() {
    }

    private static String join(float[] values) {
        StringBuilder out = new StringBuilder();
        for (float value : values) {
            out.append(out.length() > 0 ? "," : "").append(value);
        }
        return out.toString();
    }

    /** A Python that can import PIL and numpy, or null. */
    static String findPython() {
        for (String candidate : new String[] {"/usr/bin/python3", "python3"}) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import PIL, numpy").redirectErrorStream(true).start();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return candidate;
                }
            } catch (IOException | InterruptedException e) {
                // try the next one
            }
        }
        return null;
    }

    /** Median milliseconds per file. */
    static Map<Path, Double> run(String python, List<Path> files, PreprocessorConfig config, int runs) throws Exception {
        Path script = Files.createTempFile("vitserve-pillow-", ".py");
        try {
            Files.writeString(script, SCRIPT);
            List<String> command = new ArrayList<>(List.of(python, script.toString(), String.valueOf(config.width()),
                    String.valueOf(config.height()), String.valueOf(runs), String.valueOf(config.rescaleFactor()),
                    join(config.imageMean()), join(config.imageStd())));
            files.forEach(f -> command.add(f.toString()));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
                throw new IOException("Pillow baseline failed:\n" + output);
            }
            Map<Path, Double> medians = new LinkedHashMap<>();
            for (String line : output.strip().split("\n")) {
                int space = line.lastIndexOf(' ');
                medians.put(Path.of(line.substring(0, space)), Double.parseDouble(line.substring(space + 1)));
            }
            return medians;
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
