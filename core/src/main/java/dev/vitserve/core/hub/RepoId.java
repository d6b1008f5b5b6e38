package dev.vitserve.core.hub;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A Hugging Face model repository id, {@code org/name}, checked with the Hub's own rule: letters,
 * digits, {@code - _ .}, at most 96 characters a part, no {@code --} or {@code ..}, not starting or
 * ending with {@code -} or {@code .}.
 */
public record RepoId(String namespace, String name) {

    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.\\-]{0,94}[A-Za-z0-9_])?");

    /** The id if the text is one, e.g. {@code google/vit-base-patch16-224}. */
    public static Optional<RepoId> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String[] parts = text.split("/", -1);
        if (parts.length != 2) {
            return Optional.empty();
        }
        for (String part : parts) {
            if (!PART.matcher(part).matches() || part.contains("--") || part.contains("..")) {
                return Optional.empty();
            }
        }
        return Optional.of(new RepoId(parts[0], parts[1]));
    }

    /** The folder of this repository in the cache, e.g. {@code models--google--vit-base-patch16-224}. */
    public String cacheFolderName() {
        return "models--" + namespace + "--" + name;
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
