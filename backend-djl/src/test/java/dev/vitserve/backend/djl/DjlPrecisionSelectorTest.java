package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import dev.vitserve.api.AutoPrecision;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.CpuFeatures;
import dev.vitserve.api.Precision;
import java.util.List;
import org.junit.jupiter.api.Test;

class DjlPrecisionSelectorTest {

    private static final CpuFeatures AMX = CpuFeatures.parse(
            "flags : fpu avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8\n", "fake");
    private static final CpuFeatures SKYLAKE = CpuFeatures.parse("flags : fpu avx2 avx512f avx512bw\n", "/fake/cpuinfo");

    @Test
    void bf16OnAnAmxCpuRunsInBfloat16AndNamesTheFlags() throws BackendException {
        DjlPrecisionSelector.Choice choice = DjlPrecisionSelector.select(Precision.BF16, false, AMX);
        assertEquals(Precision.BF16, choice.precision());
        assertEquals(DataType.BFLOAT16, choice.dataType());
        assertEquals("amx_bf16 avx512_bf16", choice.cpuFeatures());
    }

    @Test
    void bf16IsRefusedOnACpuWithoutItSayingWhatItLacks() {
        BackendException e = assertThrows(BackendException.class,
                () -> DjlPrecisionSelector.select(Precision.BF16, false, SKYLAKE));
        assertTrue(e.getMessage().startsWith("--precision bf16 is refused on this CPU: this CPU lists neither amx_bf16"
                + " nor avx512_bf16 in /fake/cpuinfo"), e.getMessage());
        assertTrue(e.getMessage().contains("use --precision fp32, or --backend onnx --precision int8"), e.getMessage());
    }

    @Test
    void halfPrecisionsOnTheGpuNeedNoCpuFeature() throws BackendException {
        assertEquals(DataType.BFLOAT16, DjlPrecisionSelector.select(Precision.BF16, true, SKYLAKE).dataType());
        DjlPrecisionSelector.Choice fp16 = DjlPrecisionSelector.select(Precision.FP16, true, SKYLAKE);
        assertEquals(DataType.FLOAT16, fp16.dataType());
        assertEquals("", fp16.cpuFeatures());
    }

    @Test
    void fp16IsRefusedOnTheCpuPointingToBf16WhereItRuns() {
        BackendException amx = assertThrows(BackendException.class,
                () -> DjlPrecisionSelector.select(Precision.FP16, false, AMX));
        assertTrue(amx.getMessage().contains("runs on a GPU only"), amx.getMessage());
        assertTrue(amx.getMessage().contains("--precision bf16 (this CPU has amx_bf16 and avx512_bf16)"), amx.getMessage());
        BackendException old = assertThrows(BackendException.class,
                () -> DjlPrecisionSelector.select(Precision.FP16, false, SKYLAKE));
        assertTrue(old.getMessage().contains("--precision fp32 (this CPU lists neither"), old.getMessage());
    }

    @Test
    void int8IsRefusedNamingOnnx() {
        BackendException e = assertThrows(BackendException.class,
                () -> DjlPrecisionSelector.select(Precision.INT8, false, AMX));
        assertTrue(e.getMessage().contains("use --backend onnx for int8"), e.getMessage());
    }

    @Test
    void autoTriesBf16OnlyWhereTheCpuHasIt() {
        List<AutoPrecision.Candidate> amx = DjlPrecisionSelector.autoCandidates(false, AMX);
        assertEquals(List.of(AutoPrecision.Candidate.of(Precision.BF16), AutoPrecision.Candidate.of(Precision.FP32)), amx);
        List<AutoPrecision.Candidate> old = DjlPrecisionSelector.autoCandidates(false, SKYLAKE);
        assertEquals(Precision.BF16, old.get(0).precision());
        assertTrue(old.get(0).unavailable().startsWith("this CPU lists neither"), old.get(0).unavailable());
        assertEquals(List.of(AutoPrecision.Candidate.of(Precision.FP16), AutoPrecision.Candidate.of(Precision.FP32)),
                DjlPrecisionSelector.autoCandidates(true, SKYLAKE));
    }
}
