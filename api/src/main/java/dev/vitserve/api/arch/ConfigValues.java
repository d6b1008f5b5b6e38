package dev.vitserve.api.arch;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The keys of a parsed {@code config.json} (a JSON object as maps, lists, strings, numbers and booleans), read with
 * the defaults of the architecture's Hugging Face config class. A value of the wrong type is refused with
 * {@link IllegalArgumentException} naming the key.
 */
public final class ConfigValues {

    private final Map<String, ?> values;

    public ConfigValues(Map<String, ?> values) {
        this.values = Objects.requireNonNull(values, "values");
    }

    /** Whether the key is there and not null. */
    public boolean has(String key) {
        return values.get(key) != null;
    }

    public String text(String key, String fallback) {
        Object value = values.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException(key + " must be a string, got " + value);
        }
        return text;
    }

    public int integer(String key, int fallback) {
        Object value = values.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Integer || value instanceof Long || value instanceof Short)
                || ((Number) value).longValue() != ((Number) value).intValue()) {
            throw new IllegalArgumentException(key + " must be a whole number, got " + value);
        }
        return ((Number) value).intValue();
    }

    public double real(String key, double fallback) {
        Object value = values.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Number number)) {
            throw new IllegalArgumentException(key + " must be a number, got " + value);
        }
        return number.doubleValue();
    }

    public boolean bool(String key, boolean fallback) {
        Object value = values.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Boolean bool)) {
            throw new IllegalArgumentException(key + " must be true or false, got " + value);
        }
        return bool;
    }

    /** An int, or a list of two ints {@code [height, width]}, as Hugging Face's configs take sizes. */
    public int[] pair(String key, int fallback) {
        Object value = values.get(key);
        if (value == null) {
            return new int[] {fallback, fallback};
        }
        if (value instanceof List<?> list && list.size() == 2) {
            return new int[] {element(key, list.get(0)), element(key, list.get(1))};
        }
        if (value instanceof List<?>) {
            throw new IllegalArgumentException(key + " must be a whole number or [height, width], got " + value);
        }
        int side = integer(key, fallback);
        return new int[] {side, side};
    }

    /** A square size: an int, or a list of two equal ints. */
    public int square(String key, int fallback) {
        int[] sides = pair(key, fallback);
        if (sides[0] != sides[1]) {
            throw new IllegalArgumentException("non-square " + key + " " + values.get(key) + " is not supported");
        }
        return sides[0];
    }

    /** A list of whole numbers, or the fallback when the key is missing. */
    public List<Integer> integers(String key, List<Integer> fallback) {
        Object value = values.get(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof List<?> list) || list.isEmpty()) {
            throw new IllegalArgumentException(key + " must be a non-empty list of whole numbers, got " + value);
        }
        return list.stream().map(element -> {
            if (!(element instanceof Integer || element instanceof Long)
                    || ((Number) element).longValue() != ((Number) element).intValue()) {
                throw new IllegalArgumentException(key + " must be a non-empty list of whole numbers, got " + value);
            }
            return ((Number) element).intValue();
        }).toList();
    }

    /** The strings of a list, or an empty list when the key is missing. */
    public List<String> texts(String key) {
        Object value = values.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
            throw new IllegalArgumentException(key + " must be a list of strings, got " + value);
        }
        return list.stream().map(String.class::cast).toList();
    }

    private static int element(String key, Object value) {
        if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() != ((Number) value).intValue()) {
            throw new IllegalArgumentException(key + " must be a whole number or [height, width], got " + value);
        }
        return ((Number) value).intValue();
    }
}
