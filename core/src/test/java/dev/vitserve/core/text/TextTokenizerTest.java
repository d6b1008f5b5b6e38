package dev.vitserve.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.core.model.ModelLoadException;
import dev.vitserve.testkit.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ids of Hugging Face's Rust tokenizer, run through DJL on the fixture's CLIP tokenizer.json, equal those of the
 * fixture tool's port of the fast CLIP tokenizer (reference.json) for tricky strings: case, punctuation, accents
 * composed and decomposed, CJK, emoji and a ZWJ sequence, digits, empty and blank texts, and texts truncated at the
 * text tower's 16 positions with both special tokens kept.
 */
class TextTokenizerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode reference() throws Exception {
        return JSON.readTree(Fixtures.tinyClip().resolve("reference.json").toFile());
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
        try (TextTokenizer tokens = TextTokenizer.load(Fixtures.tinyClip(), 16)) {
            assertEquals(tokenizer.get("max_length").asInt(), tokens.maxLength());
            int truncated = 0;
            for (JsonNode c : tokenizer.get("cases")) {
                long[] ids = tokens.ids(c.get("text").asText());
                assertArrayEquals(longs(c.get("ids")), ids, "ids of " + c.get("text"));
                truncated += ids.length == tokens.maxLength() ? 1 : 0;
            }
            assertTrue(truncated >= 3, "some cases reach the truncation length");
        }
    }

    @Test
    void aBatchIsPaddedToItsLongestWithThePadToken() throws Exception {
        JsonNode set = reference().get("label_sets").get(1);
        List<String> texts = new ArrayList<>();
        set.get("texts").forEach(t -> texts.add(t.asText()));
        try (TextTokenizer tokens = TextTokenizer.load(Fixtures.tinyClip(), 16)) {
            TextTokenizer.Tokens batch = tokens.encode(texts);
            assertEquals(texts.size(), batch.batchSize());
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(longs(set.get("input_ids").get(i)), batch.row(i));
            }
            assertEquals(633, tokens.padId());
        }
    }

    @Test
    void fewerPositionsThanModelMaxLengthTruncateEarlier() throws Exception {
        try (TextTokenizer tokens = TextTokenizer.load(Fixtures.tinyClip(), 8)) {
            long[] ids = tokens.ids("a very long label that goes on and on");
            assertEquals(8, ids.length);
            assertEquals(632, ids[0]);
            assertEquals(633, ids[7]);
        }
    }

    @Test
    void aMissingOrBrokenTokenizerIsRefusedSayingWhatToDo(@TempDir Path dir) throws Exception {
        ModelLoadException missing = assertThrows(ModelLoadException.class, () -> TextTokenizer.load(dir, 16));
        assertTrue(missing.getMessage().contains("tokenizer.json is missing"), missing.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        ModelLoadException broken = assertThrows(ModelLoadException.class, () -> TextTokenizer.load(dir, 16));
        assertTrue(broken.getMessage().contains("not valid JSON"), broken.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nonsense\"}, \"added_tokens\":"
                + " [{\"id\": 0, \"content\": \"<pad>\"}]}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"pad_token\": \"<pad>\"}");
        ModelLoadException unreadable = assertThrows(ModelLoadException.class, () -> TextTokenizer.load(dir, 16));
        assertTrue(unreadable.getMessage().contains("tokenizers library can read"), unreadable.getMessage());
    }
}
