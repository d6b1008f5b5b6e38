package dev.vitserve.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AutoPrecisionTest {

    /** A backend that opens the precisions given and fails the others' checks, recording what was tried. */
    private static final class FakeBackend implements AutoPrecision.Opener<String> {
        final Set<Precision> passing;
        final List<Precision> tried = new ArrayList<>();

        FakeBackend(Precision... passing) {
            this.passing = Set.of(passing);
        }

        @Override
        public String open(Precision precision, String reason) throws BackendException {
            tried.add(precision);
            if (!passing.contains(precision)) {
                throw new BackendException(precision.id() + " self-check: embedding cosine 0.31 to float32's");
            }
            return precision.id() + " | " + reason;
        }
    }

    @Test
    void takesTheFastestWhenItsCheckPasses() throws BackendException {
        FakeBackend backend = new FakeBackend(Precision.INT8, Precision.FP32);
        String opened = AutoPrecision.choose(List.of(AutoPrecision.Candidate.of(Precision.INT8),
                AutoPrecision.Candidate.of(Precision.FP32)), backend);
        assertEquals("int8 | auto: int8, the fastest precision here", opened);
        assertEquals(List.of(Precision.INT8), backend.tried);
    }

    @Test
    void fallsBackWhenTheFasterCheckFailsAndSaysWhy() throws BackendException {
        FakeBackend backend = new FakeBackend(Precision.FP32);
        String opened = AutoPrecision.choose(List.of(AutoPrecision.Candidate.of(Precision.INT8),
                AutoPrecision.Candidate.of(Precision.FP32)), backend);
        assertEquals(List.of(Precision.INT8, Precision.FP32), backend.tried);
        assertEquals("fp32 | auto: fp32, the fastest that runs here (passed over int8: int8 self-check: embedding"
                + " cosine 0.31 to float32's)", opened);
    }

    @Test
    void neverTriesWhatTheMachineLacks() throws BackendException {
        FakeBackend backend = new FakeBackend(Precision.BF16, Precision.FP32);
        String opened = AutoPrecision.choose(List.of(new AutoPrecision.Candidate(Precision.BF16,
                "this CPU lists neither amx_bf16 nor avx512_bf16"), AutoPrecision.Candidate.of(Precision.FP32)), backend);
        assertEquals(List.of(Precision.FP32), backend.tried, "bf16 is never opened on a CPU without it");
        assertTrue(opened.endsWith("(passed over bf16: this CPU lists neither amx_bf16 nor avx512_bf16)"), opened);
    }

    @Test
    void failsWithEveryReasonWhenNothingOpens() {
        FakeBackend backend = new FakeBackend();
        BackendException e = assertThrows(BackendException.class, () -> AutoPrecision.choose(List.of(
                new AutoPrecision.Candidate(Precision.BF16, "no bf16 here"), AutoPrecision.Candidate.of(Precision.FP32)),
                backend));
        assertEquals("--precision auto found no precision that runs here: bf16: no bf16 here; fp32: fp32 self-check:"
                + " embedding cosine 0.31 to float32's", e.getMessage());
    }

    @Test
    void autoIsNeitherACandidateNorABuild() {
        assertThrows(IllegalArgumentException.class, () -> AutoPrecision.Candidate.of(Precision.AUTO));
        assertThrows(IllegalArgumentException.class, () -> new NetworkBuild(Precision.AUTO, "none", "all", "", 0, 0));
    }
}
