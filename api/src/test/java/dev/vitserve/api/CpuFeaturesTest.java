package dev.vitserve.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpuFeaturesTest {

    private static final String SAPPHIRE_RAPIDS = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            model name\t: Intel(R) Xeon(R) Platinum 8488C
            flags\t\t: fpu vme avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 avx512_fp16 amx_tile amx_int8
            bugs\t\t: spectre_v1

            processor\t: 1
            flags\t\t: fpu vme avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 avx512_fp16 amx_tile amx_int8
            """;
    private static final String ZEN4 = "processor : 0\nflags : fpu avx2 avx512f avx512_vnni avx512_bf16\n";
    private static final String SKYLAKE = "processor\t: 0\nflags\t\t: fpu sse4_2 avx2 avx512f avx512bw\n";

    @Test
    void amxHostHasBf16AndInt8Tiles() {
        CpuFeatures cpu = CpuFeatures.parse(SAPPHIRE_RAPIDS, "fake");
        assertTrue(cpu.bf16());
        assertEquals(List.of("amx_bf16", "avx512_bf16"), cpu.bf16Flags());
        assertEquals(List.of("amx_int8", "avx512_vnni"), cpu.int8Flags());
        assertEquals("", cpu.bf16Lack());
    }

    @Test
    void avx512Bf16AloneIsEnough() {
        CpuFeatures cpu = CpuFeatures.parse(ZEN4, "fake");
        assertTrue(cpu.bf16());
        assertEquals(List.of("avx512_bf16"), cpu.bf16Flags());
    }

    @Test
    void cpuWithoutBf16SaysWhatItLacks() {
        CpuFeatures cpu = CpuFeatures.parse(SKYLAKE, "/fake/cpuinfo");
        assertFalse(cpu.bf16());
        assertTrue(cpu.int8Flags().isEmpty());
        assertEquals("this CPU lists neither amx_bf16 nor avx512_bf16 in /fake/cpuinfo (no AVX-512 BF16 or AMX-BF16:"
                + " bfloat16 would be emulated, slower than float32)", cpu.bf16Lack());
    }

    @Test
    void flagNamesMatchWholeWordsOnly() {
        // avx512_bf16x is not avx512_bf16
        CpuFeatures cpu = CpuFeatures.parse("flags : avx512_bf16x amx_bf16_pre\n", "fake");
        assertFalse(cpu.bf16());
    }

    @Test
    void textWithoutFlagsLineHasNoFeatures() {
        CpuFeatures cpu = CpuFeatures.parse("processor : 0\nmodel name : something\n", "fake");
        assertFalse(cpu.bf16());
        assertTrue(cpu.bf16Lack().contains("fake (no flags line)"), cpu.bf16Lack());
    }

    @Test
    void precisionParsesEveryId() {
        for (Precision precision : Precision.values()) {
            assertEquals(precision, Precision.parse(" " + precision.id().toUpperCase() + " "));
        }
        assertEquals("fp32, int8, bf16, fp16 or auto", Precision.accepted());
    }
}
