package dev.vitserve.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The CPU's instruction-set extensions that decide which precisions run at the hardware's pace, read from the
 * {@code flags} line of {@code /proc/cpuinfo} (Linux's names: {@code avx512_bf16}, {@code amx_bf16},
 * {@code amx_int8}, {@code avx512_vnni}...).
 */
public final class CpuFeatures {

    /** Where Linux lists the flags. */
    public static final Path CPUINFO = Path.of("/proc/cpuinfo");

    /** The flags that give native bfloat16 arithmetic: AVX-512 BF16 dot products, or AMX-BF16 tiles. */
    static final List<String> BF16_FLAGS = List.of("amx_bf16", "avx512_bf16");
    /** The flags that speed up int8 products, fastest first. */
    static final List<String> INT8_FLAGS = List.of("amx_int8", "avx512_vnni", "avx_vnni");

    private final Set<String> flags;
    /** Where the flags came from, for messages. */
    private final String source;

    private CpuFeatures(Set<String> flags, String source) {
        this.flags = flags;
        this.source = source;
    }

    /** The features of this machine's CPU; none when {@code /proc/cpuinfo} cannot be read (not Linux, say). */
    public static CpuFeatures detect() {
        try {
            return parse(Files.readString(CPUINFO), CPUINFO.toString());
        } catch (IOException | RuntimeException e) {
            return new CpuFeatures(Set.of(), CPUINFO + " (unreadable: " + e.getMessage() + ")");
        }
    }

    /**
     * Reads the first {@code flags} line of a {@code /proc/cpuinfo} text (every core lists the same).
     *
     * @param source where the text came from, for messages
     */
    public static CpuFeatures parse(String cpuinfo, String source) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("flags")) {
                Set<String> flags = new LinkedHashSet<>(Arrays.asList(line.substring(colon + 1).trim().split("\\s+")));
                flags.remove("");
                return new CpuFeatures(flags, source);
            }
        }
        return new CpuFeatures(Set.of(), source + " (no flags line)");
    }

    /** Whether the CPU lists this flag. */
    public boolean has(String flag) {
        return flags.contains(flag);
    }

    /** Whether the CPU does bfloat16 arithmetic natively (AVX-512 BF16 or AMX-BF16). */
    public boolean bf16() {
        return BF16_FLAGS.stream().anyMatch(flags::contains);
    }

    /** The bfloat16 flags the CPU lists, e.g. {@code amx_bf16 avx512_bf16}; empty without. */
    public List<String> bf16Flags() {
        return present(BF16_FLAGS);
    }

    /** The int8 dot-product flags the CPU lists, fastest first, e.g. {@code amx_int8 avx512_vnni}; empty without. */
    public List<String> int8Flags() {
        return present(INT8_FLAGS);
    }

    /**
     * Why bfloat16 would be slow here, for a refusal: which flags are missing and where they were looked for. Empty
     * when the CPU has bf16.
     */
    public String bf16Lack() {
        if (bf16()) {
            return "";
        }
        return "this CPU lists neither " + String.join(" nor ", BF16_FLAGS) + " in " + source
                + " (no AVX-512 BF16 or AMX-BF16: bfloat16 would be emulated, slower than float32)";
    }

    private List<String> present(List<String> wanted) {
        List<String> found = new ArrayList<>();
        for (String flag : wanted) {
            if (flags.contains(flag)) {
                found.add(flag);
            }
        }
        return found;
    }

    @Override
    public String toString() {
        return "CpuFeatures" + (bf16Flags().isEmpty() && int8Flags().isEmpty() ? "[none of note]"
                : bf16Flags().toString() + int8Flags());
    }
}
