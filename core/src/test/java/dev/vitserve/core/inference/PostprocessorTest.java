package dev.vitserve.core.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vitserve.core.inference.Postprocessor.Prediction;
import dev.vitserve.testkit.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class PostprocessorTest {

    static final List<String> LABELS = List.of("tabby cat", "tiger", "teapot", "palace", "golden retriever",
            "espresso", "rocket", "coffee mug", "astronaut", "lighthouse");

    @Test
    void softmaxTopFiveMatchesTheReferenceForEveryPhoto() {
        Postprocessor post = new Postprocessor(LABELS);
        for (String photo : Fixtures.photoNames()) {
            List<Prediction> top = post.top(Fixtures.referenceLogits(photo), 5, ScoreFunction.SOFTMAX);
            JsonNode expected = Fixtures.reference().get("images").get(photo).get("top");
            assertEquals(expected.size(), top.size());
            for (int i = 0; i < top.size(); i++) {
                assertEquals(expected.get(i).get("label").asText(), top.get(i).label(), photo);
                assertEquals(expected.get(i).get("index").asInt(), top.get(i).index(), photo);
                assertEquals(expected.get(i).get("score").asDouble(), top.get(i).score(), 1e-6, photo);
            }
        }
    }

    @Test
    void tiesKeepTheLowerIndexFirstAndTopKIsClamped() {
        Postprocessor post = new Postprocessor(List.of("a", "b", "c"));
        List<Prediction> top = post.top(new float[] {1, 3, 3}, 10, ScoreFunction.NONE);
        assertEquals(List.of("b", "c", "a"), top.stream().map(Prediction::label).toList());
        assertEquals(1, post.top(new float[] {1, 3, 3}, 0, ScoreFunction.NONE).size());
    }

    @Test
    void softmaxIsStableForHugeLogitsAndSigmoidIsPerClass() {
        Postprocessor post = new Postprocessor(List.of("a", "b"));
        List<Prediction> top = post.top(new float[] {1000, 999}, 2, ScoreFunction.SOFTMAX);
        assertEquals(1 / (1 + Math.exp(-1)), top.get(0).score(), 1e-12);
        List<Prediction> sigmoid = post.top(new float[] {0, 2}, 2, ScoreFunction.SIGMOID);
        assertEquals(1 / (1 + Math.exp(-2)), sigmoid.get(0).score(), 1e-12);
        assertEquals(0.5, sigmoid.get(1).score(), 1e-12);
    }

    @Test
    void defaultFunctionFollowsHuggingFace() {
        assertEquals(ScoreFunction.SIGMOID, ScoreFunction.defaultFor("multi_label_classification", 10));
        assertEquals(ScoreFunction.SIGMOID, ScoreFunction.defaultFor(null, 1));
        assertEquals(ScoreFunction.SOFTMAX, ScoreFunction.defaultFor("single_label_classification", 10));
        assertEquals(ScoreFunction.SOFTMAX, ScoreFunction.defaultFor(null, 1000));
    }
}
