package dev.vitserve.core.protocol.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.inference.ZeroShotScores;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Templates are filled as Python's str.format fills them; scores are the pipeline's softmax, sorted. */
class ZeroShotRequestTest {

    @Test
    void templatesAreFilledAsStrFormatDoes() {
        assertEquals("This is a photo of cat.", ZeroShotRequest.fill(ZeroShotRequest.DEFAULT_TEMPLATE, "cat"));
        assertEquals("{cat} and cat", ZeroShotRequest.fill("{{{}}} and {0}", "cat"));
        assertEquals("a {} b", ZeroShotRequest.fill("a {} b", "{}"));
        for (String bad : List.of("none", "{label}", "a } b {}", "{1}", "{", "{}{")) {
            ApiException e = assertThrows(ApiException.class, () -> ZeroShotRequest.fill(bad, "x"), bad);
            assertEquals("invalid_template", e.code());
        }
    }

    @Test
    void scoresAreTheSoftmaxOfScaledCosinesSortedStably() {
        float[] image = {1, 0};
        float[][] texts = {{0, 2}, {3, 0}, {0, -1}, {3, 0}};
        double[] logits = ZeroShotScores.logitsPerImage(image, texts, Math.log(10));
        assertEquals(0, logits[0], 1e-9);
        assertEquals(10, logits[1], 1e-9);
        List<ZeroShotScores.Scored> ranked = ZeroShotScores.ranked(List.of("a", "b", "c", "d"), logits);
        assertEquals(List.of("b", "d", "a", "c"), ranked.stream().map(ZeroShotScores.Scored::label).toList());
        double sum = ranked.stream().mapToDouble(ZeroShotScores.Scored::score).sum();
        assertEquals(1, sum, 1e-12);
        assertEquals(Math.exp(10) / (2 * Math.exp(10) + 2), ranked.get(0).score(), 1e-12);
    }
}
