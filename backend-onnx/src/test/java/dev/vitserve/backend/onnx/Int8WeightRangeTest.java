package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** 8-bit weights where ONNX Runtime's int8 kernels cannot saturate (VNNI, ARM), 7-bit everywhere else. */
class Int8WeightRangeTest {

    private static final String ZEN4 = "processor\t: 0\nvendor_id\t: AuthenticAMD\n"
            + "flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16\nbogomips\t: 4900\n"
            + "processor\t: 1\nflags\t\t: fpu sse2 avx avx2\n";
    private static final String SKYLAKE = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512vl\n";
    private static final String ALDER_LAKE = "flags\t\t: fpu sse2 avx avx2 avx_vnni\n";

    @Test
    void x86WithAvx512VnniUsesEightBitWeights() {
        Int8WeightRange range = Int8WeightRange.select("amd64", Optional.of(ZEN4));
        assertEquals(127, range.maxMagnitude());
        assertTrue(range.reason().contains("avx512_vnni"), range.reason());
    }

    @Test
    void x86WithAvxVnniUsesEightBitWeights() {
        Int8WeightRange range = Int8WeightRange.select("x86_64", Optional.of(ALDER_LAKE));
        assertEquals(127, range.maxMagnitude());
        assertTrue(range.reason().contains("avx_vnni"), range.reason());
    }

    @Test
    void x86WithoutVnniUsesSevenBitWeights() {
        Int8WeightRange range = Int8WeightRange.select("amd64", Optional.of(SKYLAKE));
        assertEquals(64, range.maxMagnitude());
        assertTrue(range.reduced());
        assertTrue(range.reason().startsWith("x86 CPU without VNNI"), range.reason());
        assertTrue(range.reason().contains("reduce_range"), range.reason());
    }

    @Test
    void unreadableCpuInfoOnX86UsesSevenBitWeights() {
        assertEquals(64, Int8WeightRange.select("amd64", Optional.empty()).maxMagnitude());
        assertEquals(64, Int8WeightRange.select("amd64", Optional.of("processor\t: 0\n")).maxMagnitude());
    }

    @Test
    void armUsesEightBitWeights() {
        assertEquals(127, Int8WeightRange.select("aarch64", Optional.empty()).maxMagnitude());
    }

    @Test
    void anUnknownArchitectureUsesSevenBitWeights() {
        Int8WeightRange range = Int8WeightRange.select("riscv64", Optional.of(ZEN4));
        assertEquals(64, range.maxMagnitude());
        assertTrue(range.reason().contains("riscv64"), range.reason());
    }

    @Test
    void aFlagNameContainingVnniAsPartOfAnotherWordDoesNotCount() {
        assertEquals(64, Int8WeightRange.select("amd64", Optional.of("flags\t: avx2 avx512_vnnix\n")).maxMagnitude());
    }
}
