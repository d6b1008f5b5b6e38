package dev.vitserve.api;

import java.util.Locale;
import java.util.OptionalInt;

/**
 * The device an operator asked for with {@code --device}: {@code auto}, {@code cpu},
 * {@code gpu} (the first GPU) or {@code gpu:N}.
 */
public record DeviceRequest(Kind kind, OptionalInt gpuIndex) {

    /** What was asked for. */
    public enum Kind { AUTO, CPU, GPU }

    public static final DeviceRequest AUTO = new DeviceRequest(Kind.AUTO, OptionalInt.empty());
    public static final DeviceRequest CPU = new DeviceRequest(Kind.CPU, OptionalInt.empty());

    public DeviceRequest {
        if (gpuIndex.isPresent() && (kind != Kind.GPU || gpuIndex.getAsInt() < 0)) {
            throw new IllegalArgumentException("a device index goes with gpu only and is 0 or more");
        }
    }

    /**
     * Reads {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N} (case-insensitive).
     *
     * @throws IllegalArgumentException naming the accepted forms
     */
    public static DeviceRequest parse(String text) {
        String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "auto":
                return AUTO;
            case "cpu":
                return CPU;
            case "gpu":
                return new DeviceRequest(Kind.GPU, OptionalInt.empty());
            default:
                break;
        }
        if (s.startsWith("gpu:")) {
            String index = s.substring("gpu:".length());
            if (!index.isEmpty() && index.length() <= 4 && index.chars().allMatch(Character::isDigit)) {
                return new DeviceRequest(Kind.GPU, OptionalInt.of(Integer.parseInt(index)));
            }
        }
        throw new IllegalArgumentException("unknown device '" + text + "': use auto, cpu, gpu or gpu:N (N = 0, 1, ...)");
    }

    /** The GPU index meant: the one given, else 0. */
    public int gpuIndexOrFirst() {
        return gpuIndex.orElse(0);
    }

    @Override
    public String toString() {
        return kind == Kind.GPU && gpuIndex.isPresent()
                ? "gpu:" + gpuIndex.getAsInt()
                : kind.name().toLowerCase(Locale.ROOT);
    }
}
