package dev.vitserve.core.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.core.model.ModelLoadException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A model's Hugging Face fast tokenizer, run by Hugging Face's own Rust {@code tokenizers} library (through DJL's
 * {@code ai.djl.huggingface:tokenizers}, whose jar carries the native library): the ids are those of
 * {@code AutoTokenizer.from_pretrained(folder)(texts, padding=True, truncation=True)}. Special tokens are added,
 * each text is truncated to {@link #maxLength()} tokens (special ones kept, as Hugging Face truncates), and a batch
 * is padded to its longest text with the pad token. Thread-safe (the Rust tokenizer is immutable once built).
 *
 * <p>The native library is copied from the jar into DJL's cache folder ({@code ~/.djl.ai/tokenizers}, or
 * {@code $DJL_CACHE_DIR}/{@code $ENGINE_CACHE_DIR}) on first use; nothing is downloaded: DJL only downloads a CUDA
 * build when it sees a GPU and no {@code RUST_FLAVOR} is set, so {@link #load} sets {@code RUST_FLAVOR=cpu} (the
 * jar's build) unless the operator chose one.
 */
public final class TextTokenizer implements AutoCloseable {

    /** The file of the tokenizer. */
    public static final String TOKENIZER = "tokenizer.json";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String SPECIAL_TOKENS = "special_tokens_map.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Above this, model_max_length is transformers' "no limit" placeholder (int(1e30)). */
    private static final long NO_LIMIT = 1_000_000L;

    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;
    private final long padId;
    private final boolean padToMaxLength;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxLength, long padId, boolean padToMaxLength) {
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.padId = padId;
        this.padToMaxLength = padToMaxLength;
    }

    /** The ids of a batch of texts, padded to the longest: {@code batchSize} rows of {@code length} ids. */
    public record Tokens(long[] ids, int batchSize, int length) {

        /** A copy of one text's row, padding included. */
        public long[] row(int text) {
            return java.util.Arrays.copyOfRange(ids, text * length, (text + 1) * length);
        }
    }

    /**
     * Reads the tokenizer of a model folder: {@code tokenizer.json}, with {@code tokenizer_config.json}'s
     * {@code model_max_length} and pad token (or {@code special_tokens_map.json}'s).
     *
     * @param positions the text tower's {@code max_position_embeddings}: no text is longer
     * @throws ModelLoadException when a file is missing or broken, naming it and what to do
     */
    public static TextTokenizer load(Path directory, int positions) throws ModelLoadException {
        return load(directory, positions, false);
    }

    /**
     * Reads the tokenizer of a model folder that is always given texts of one length, as
     * {@code tokenizer(texts, padding="max_length", max_length=length, truncation=True)} tokenizes them (what the
     * zero-shot pipeline does for SigLIP, with 64): each text truncated to {@code length} tokens and padded to it.
     *
     * @throws ModelLoadException as {@link #load(Path, int)}
     */
    public static TextTokenizer loadPadded(Path directory, int length) throws ModelLoadException {
        return load(directory, length, true);
    }

    private static TextTokenizer load(Path directory, int positions, boolean padToMaxLength)
            throws ModelLoadException {
        Path file = directory.resolve(TOKENIZER);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(TOKENIZER + " is missing in " + directory + ": a zero-shot model needs its fast"
                    + " tokenizer's file (the Hub repository has it; AutoTokenizer.from_pretrained(...).save_pretrained"
                    + " writes it)");
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
        JsonNode root = json(file, bytes);
        JsonNode config = optionalJson(directory.resolve(TOKENIZER_CONFIG));
        JsonNode special = optionalJson(directory.resolve(SPECIAL_TOKENS));
        int maxLength = positions;
        JsonNode modelMax = config.path("model_max_length");
        if (!padToMaxLength && modelMax.isNumber() && modelMax.asDouble() >= 2 && modelMax.asDouble() < NO_LIMIT) {
            maxLength = Math.min(maxLength, modelMax.asInt());
        }
        String padToken = tokenText(config.path("pad_token"));
        if (padToken == null) {
            padToken = tokenText(special.path("pad_token"));
        }
        if (padToken == null) {
            throw new ModelLoadException("no pad token in " + directory.resolve(TOKENIZER_CONFIG) + " or "
                    + directory.resolve(SPECIAL_TOKENS) + ": texts of a batch are padded with it (CLIP uses"
                    + " \"<|endoftext|>\"); add \"pad_token\" to " + TOKENIZER_CONFIG);
        }
        long padId = tokenId(file, root, padToken);
        useTheJarsNativeLibrary();
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), Map.of(
                    "addSpecialTokens", "true", "truncation", "true", "padding", "false",
                    "maxLength", Integer.toString(maxLength)));
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException(file + " is not a tokenizer Hugging Face's tokenizers library can read: "
                    + e.getMessage() + "; save it again with a recent transformers (tokenizer.save_pretrained)", e);
        }
        return new TextTokenizer(tokenizer, maxLength, padId, padToMaxLength);
    }

    /** The longest a text gets, special tokens included; longer ones are truncated. */
    public int maxLength() {
        return maxLength;
    }

    /** The id rows are padded with. */
    public long padId() {
        return padId;
    }

    /** One text's ids, special tokens added, truncated to {@link #maxLength()}. */
    public long[] ids(String text) {
        Encoding encoding = tokenizer.encode(text);
        return encoding.getIds();
    }

    /** Whether every batch is padded to {@link #maxLength()} rather than to its longest text. */
    public boolean padsToMaxLength() {
        return padToMaxLength;
    }

    /** The ids of several texts, padded with {@link #padId()} to the longest, or to {@link #maxLength()}. */
    public Tokens encode(List<String> texts) {
        if (texts.isEmpty()) {
            throw new IllegalArgumentException("no texts");
        }
        long[][] rows = new long[texts.size()][];
        int longest = padToMaxLength ? maxLength : 0;
        for (int i = 0; i < rows.length; i++) {
            rows[i] = ids(texts.get(i));
            longest = Math.max(longest, rows[i].length);
        }
        long[] ids = new long[rows.length * longest];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, ids, i * longest, rows[i].length);
        }
        return new Tokens(ids, rows.length, longest);
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /** Keeps DJL on the native library inside its jar: without RUST_FLAVOR it downloads a CUDA build on a GPU host. */
    private static synchronized void useTheJarsNativeLibrary() {
        if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
    }

    private static JsonNode json(Path file, byte[] bytes) throws ModelLoadException {
        try {
            JsonNode node = JSON.readTree(bytes);
            if (node == null || !node.isObject() || !node.path("model").isObject()) {
                throw new ModelLoadException(file + " is not a Hugging Face tokenizer.json (no \"model\" object)");
            }
            return node;
        } catch (JacksonException e) {
            throw new ModelLoadException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode optionalJson(Path file) throws ModelLoadException {
        if (!Files.isRegularFile(file)) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode node = JSON.readTree(Files.readAllBytes(file));
            if (node == null || !node.isObject()) {
                throw new ModelLoadException(file + " must hold a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw new ModelLoadException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** A token as the config files write it: a string, or an object with its "content". */
    private static String tokenText(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isObject() && node.path("content").isTextual()) {
            return node.get("content").asText();
        }
        return null;
    }

    private static long tokenId(Path file, JsonNode root, String token) throws ModelLoadException {
        for (JsonNode added : root.path("added_tokens")) {
            if (token.equals(added.path("content").asText(null)) && added.path("id").canConvertToLong()) {
                return added.get("id").asLong();
            }
        }
        JsonNode vocab = root.path("model").path("vocab");
        JsonNode id = vocab.path(token);
        if (id.canConvertToLong()) {
            return id.asLong();
        }
        if (vocab.isArray()) { // a Unigram model's vocabulary: [piece, score] pairs, the id being the position
            for (int i = 0; i < vocab.size(); i++) {
                if (token.equals(vocab.get(i).path(0).asText(null))) {
                    return i;
                }
            }
        }
        throw new ModelLoadException(file + " has no token \"" + token + "\", the pad token its configuration names");
    }
}
