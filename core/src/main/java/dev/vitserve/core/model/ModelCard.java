package dev.vitserve.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a model folder says it is: the first paragraph of its model card ({@code README.md}, as on the Hugging Face
 * Hub), after the YAML front matter, skipping headings, images, badges, HTML, tables, lists, quotes and code, with the
 * Markdown marks of links, emphasis and inline code taken out. Bounded: the first {@value #MAX_READ_BYTES} bytes are
 * read, the description is cut at {@value #MAX_CHARS} characters.
 */
public final class ModelCard {

    /** The model card's file name in a model folder. */
    public static final String FILE = "README.md";
    /** Bytes of the card read at most. */
    static final int MAX_READ_BYTES = 64 * 1024;
    /** Characters of a description at most (cut at a word, with an ellipsis). */
    static final int MAX_CHARS = 300;

    private static final Pattern IMAGE = Pattern.compile("!\\[[^\\]]*]\\([^)]*\\)");
    private static final Pattern LINK = Pattern.compile("\\[([^\\]]*)]\\([^)]*\\)");
    private static final Pattern EMPHASIS = Pattern.compile("(\\*\\*|__|`)");
    private static final Pattern SPACES = Pattern.compile("\\s+");
    /** Lines that are no prose: headings, images, HTML, tables, quotes, lists, rules, link definitions. */
    private static final Pattern NOT_PROSE = Pattern.compile(
            "^(#|!\\[|<|\\||>|[-*+] |\\d+[.)] |---|\\*\\*\\*|___|\\[[^\\]]*]:).*");

    private ModelCard() {
    }

    /** The description of the model in {@code directory}, empty when it has no card or the card has no paragraph. */
    public static Optional<String> description(Path directory) {
        Path card = directory.resolve(FILE);
        if (!Files.isRegularFile(card)) {
            return Optional.empty();
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(card)) {
            head = in.readNBytes(MAX_READ_BYTES);
        } catch (IOException e) {
            return Optional.empty();
        }
        return description(new String(head, StandardCharsets.UTF_8));  // a bad or cut byte becomes U+FFFD
    }

    /** The description in a model card's text. */
    static Optional<String> description(String markdown) {
        List<String> lines = markdown.replace("\r\n", "\n").replace('\r', '\n').lines().toList();
        int i = skipFrontMatter(lines);
        List<String> paragraph = new ArrayList<>();
        boolean inCode = false;
        for (; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.startsWith("```") || line.startsWith("~~~")) {
                inCode = !inCode;
                if (!paragraph.isEmpty()) {
                    break;
                }
                continue;
            }
            if (inCode) {
                continue;
            }
            // a line of badges or images alone is no prose either
            boolean prose = !NOT_PROSE.matcher(line).matches() && !lines.get(i).startsWith("    ") && !plain(line).isEmpty();
            if (prose) {
                paragraph.add(line);
            } else if (!paragraph.isEmpty()) {
                break;
            }
        }
        String text = plain(String.join(" ", paragraph));
        return text.isEmpty() ? Optional.empty() : Optional.of(cut(text));
    }

    /** The index of the first line after the {@code ---} delimited YAML front matter (0 when there is none). */
    private static int skipFrontMatter(List<String> lines) {
        if (lines.isEmpty() || !lines.get(0).strip().equals("---")) {
            return 0;
        }
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.equals("---") || line.equals("...")) {
                return i + 1;
            }
        }
        return lines.size();  // front matter never closed: no prose
    }

    private static String plain(String text) {
        String out = IMAGE.matcher(text).replaceAll("");
        out = LINK.matcher(out).replaceAll("$1");
        out = EMPHASIS.matcher(out).replaceAll("");
        return SPACES.matcher(out).replaceAll(" ").strip();
    }

    private static String cut(String text) {
        if (text.length() <= MAX_CHARS) {
            return text;
        }
        int end = text.lastIndexOf(' ', MAX_CHARS - 1);
        return text.substring(0, end > MAX_CHARS / 2 ? end : MAX_CHARS - 1).stripTrailing() + "…";
    }
}
