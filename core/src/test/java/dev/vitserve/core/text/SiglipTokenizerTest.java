package dev.vitserve.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.testkit.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hugging Face's Rust tokenizer, run through DJL on the tiny-siglip fixture's Unigram + Metaspace tokenizer.json,
 * gives the ids of the fixture tool's port (reference.json) for tricky strings: case, punctuation removed, accents,
 * characters no piece covers fused into one unknown, CJK, emoji, empty and blank texts, a text truncated at 64 with
 * its end-of-text kept; and label batches padded to 64 with the pad token, as the zero-shot pipeline pads for SigLIP.
 */
class SiglipTokenizerTest {

    private static JsonNode reference() throws Exception {
        return new ObjectMapper().readTree(Fixtures.tinySiglip().resolve("reference.json").toFile());
    }

    private static long[] longs(JsonNode array) {
        long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asLong();
        }
        return values;
    }

    @Test
    void idsEqualTheReferenceForTrickyStrings() throws Exception {
        JsonNode tokenizer = reference().get("tokenizer");
        try (TextTokenizer tokens = TextTokenizer.loadPadded(Fixtures.tinySiglip(), 64)) {
            assertEquals(64, tokens.maxLength());
            assertTrue(tokens.padsToMaxLength());
            assertEquals(tokenizer.get("pad_id").asLong(), tokens.padId());
            int truncated = 0;
            for (JsonNode c : tokenizer.get("cases")) {
                long[] ids = tokens.ids(c.get("text").asText());
                assertArrayEquals(longs(c.get("ids")), ids, "ids of " + c.get("text"));
                truncated += ids.length == 64 ? 1 : 0;
            }
            assertEquals(1, truncated, "the long case reaches the truncation length");
        }
    }

    @Test
    void everyBatchIsPaddedToMaxLength() throws Exception {
        for (JsonNode set : reference().get("label_sets")) {
            List<String> texts = new ArrayList<>();
            set.get("texts").forEach(t -> texts.add(t.asText()));
            try (TextTokenizer tokens = TextTokenizer.loadPadded(Fixtures.tinySiglip(), 64)) {
                TextTokenizer.Tokens batch = tokens.encode(texts);
                assertEquals(64, batch.length());
                for (int i = 0; i < texts.size(); i++) {
                    assertArrayEquals(longs(set.get("input_ids").get(i)), batch.row(i), texts.get(i));
                }
            }
        }
    }
}
