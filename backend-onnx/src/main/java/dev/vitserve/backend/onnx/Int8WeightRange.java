package dev.vitserve.backend.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How wide the int8 weights may be on this CPU. ONNX Runtime multiplies uint8 activations by int8 weights; on x86
 * without VNNI its kernels use {@code VPMADDUBSW}, whose int16 sums of two products saturate beyond 255 x 64 x 2, so
 * weights are then kept within +-64 (7 bits, {@code reduce_range} in ONNX Runtime's quantizer). With VNNI, and on ARM,
 * the full +-127 is exact.
 *
 * @param maxMagnitude the largest quantized weight magnitude: 127, or 64 for reduced range
 * @param reason why, for the log and {@code /v1/models}
 */
record Int8WeightRange(int maxMagnitude, String reason) {

    static final int FULL = 127;
    static final int REDUCED = 64;
    private static final Path CPU_INFO = Path.of("/proc/cpuinfo");
    private static final List<String> VNNI_FLAGS = List.of("avx512_vnni", "avx_vnni", "amx_int8");

    /** Whether the weights use 7 bits instead of 8. */
    boolean reduced() {
        return maxMagnitude == REDUCED;
    }

    /** The range for the CPU this process runs on, from {@code os.arch} and the flags in {@code /proc/cpuinfo}. */
    static Int8WeightRange forThisCpu() {
        Optional<String> cpuInfo;
        try {
            cpuInfo = Optional.of(Files.readString(CPU_INFO));
        } catch (IOException | RuntimeException e) {
            cpuInfo = Optional.empty();
        }
        return select(System.getProperty("os.arch", ""), cpuInfo);
    }

    /**
     * The range for a CPU described by its architecture ({@code os.arch}) and the text of {@code /proc/cpuinfo},
     * if readable.
     */
    static Int8WeightRange select(String arch, Optional<String> cpuInfo) {
        String a = arch.toLowerCase(Locale.ROOT);
        if (a.equals("aarch64") || a.equals("arm64")) {
            return new Int8WeightRange(FULL, "ARM CPU (no int16 saturation in ONNX Runtime's int8 kernels): 8-bit weights");
        }
        if (!(a.equals("amd64") || a.equals("x86_64") || a.equals("x86") || a.equals("i386"))) {
            return new Int8WeightRange(REDUCED, "CPU architecture '" + arch + "' not known to vitserve: 7-bit weights"
                    + " (reduce_range), which every ONNX Runtime int8 kernel keeps exact");
        }
        Optional<Set<String>> flags = cpuInfo.flatMap(Int8WeightRange::flags);
        if (flags.isEmpty()) {
            return new Int8WeightRange(REDUCED, "no CPU flags readable in " + CPU_INFO + ", so VNNI is not known: 7-bit"
                    + " weights (reduce_range), exact without VNNI too");
        }
        Optional<String> vnni = VNNI_FLAGS.stream().filter(flags.get()::contains).findFirst();
        if (vnni.isPresent()) {
            return new Int8WeightRange(FULL, "x86 CPU with VNNI (" + vnni.get() + "): 8-bit weights");
        }
        return new Int8WeightRange(REDUCED, "x86 CPU without VNNI (no " + String.join(", ", VNNI_FLAGS) + " in "
                + CPU_INFO + "): 7-bit weights (reduce_range), so ONNX Runtime's VPMADDUBSW int16 sums cannot saturate");
    }

    /** The flags of the first processor listed, or empty when the text has no {@code flags} line. */
    private static Optional<Set<String>> flags(String cpuInfo) {
        return cpuInfo.lines()
                .filter(line -> line.startsWith("flags") && line.indexOf(':') > 0)
                .findFirst()
                .map(line -> Arrays.stream(line.substring(line.indexOf(':') + 1).trim().split("\\s+"))
                        .collect(Collectors.toSet()));
    }
}
