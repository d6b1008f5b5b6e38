package dev.vitserve.core.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How vitserve talks to the Hugging Face Hub, read from the environment variables huggingface_hub
 * reads, with its defaults, so that Python and vitserve share one cache and one login.
 *
 * @param endpoint the Hub, {@code HF_ENDPOINT} (default https://huggingface.co), without a trailing slash
 * @param cacheDir the hub cache, {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else ~/.cache/huggingface/hub
 * @param offline {@code HF_HUB_OFFLINE} (or {@code TRANSFORMERS_OFFLINE}) is 1/true/yes/on: the cache only, no request
 * @param environmentToken {@code HF_TOKEN} (or the older {@code HUGGING_FACE_HUB_TOKEN}), if set
 * @param tokenFile where {@code hf auth login} keeps the token: {@code HF_TOKEN_PATH}, else {@code HF_HOME/token}
 * @param metadataTimeout how long a HEAD request may take, {@code HF_HUB_ETAG_TIMEOUT} seconds (default 10)
 * @param downloadTimeout how long a download may go without receiving a byte, {@code HF_HUB_DOWNLOAD_TIMEOUT} seconds
 *     (default 10)
 */
public record HubSettings(String endpoint, Path cacheDir, boolean offline, Optional<String> environmentToken,
                          Path tokenFile, Duration metadataTimeout, Duration downloadTimeout) {

    /** The public Hub. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final Set<String> TRUE_VALUES = Set.of("1", "ON", "YES", "TRUE");

    /** Reads the settings from these environment variables (tests pass a map of their own). */
    public static HubSettings fromEnvironment(Map<String, String> env) {
        Path home = Path.of(System.getProperty("user.home"));
        Path hfHome = nonBlank(env.get("HF_HOME")).map(value -> expandHome(value, home))
                .orElseGet(() -> nonBlank(env.get("XDG_CACHE_HOME")).map(value -> expandHome(value, home))
                        .orElse(home.resolve(".cache")).resolve("huggingface"));
        Path cache = nonBlank(env.get("HF_HUB_CACHE")).or(() -> nonBlank(env.get("HUGGINGFACE_HUB_CACHE")))
                .map(value -> expandHome(value, home)).orElse(hfHome.resolve("hub"));
        String endpoint = nonBlank(env.get("HF_ENDPOINT")).orElse(DEFAULT_ENDPOINT).replaceAll("/+$", "");
        boolean offline = isTrue(env.get("HF_HUB_OFFLINE")) || isTrue(env.get("TRANSFORMERS_OFFLINE"));
        Optional<String> token = nonBlank(env.get("HF_TOKEN")).or(() -> nonBlank(env.get("HUGGING_FACE_HUB_TOKEN")))
                .map(String::strip);
        Path tokenFile = nonBlank(env.get("HF_TOKEN_PATH")).map(value -> expandHome(value, home))
                .orElse(hfHome.resolve("token"));
        return new HubSettings(endpoint, cache.toAbsolutePath().normalize(), offline, token, tokenFile,
                seconds(env, "HF_HUB_ETAG_TIMEOUT", 10), seconds(env, "HF_HUB_DOWNLOAD_TIMEOUT", 10));
    }

    /** The same settings with offline mode on or off. */
    public HubSettings withOffline(boolean offline) {
        return new HubSettings(endpoint, cacheDir, offline, environmentToken, tokenFile, metadataTimeout,
                downloadTimeout);
    }

    /**
     * The token to send to the Hub: {@code HF_TOKEN}, else the one saved by {@code hf auth login}, if any.
     * Reads the token file, so call it off the event loop.
     */
    public Optional<String> token() {
        if (environmentToken.isPresent()) {
            return environmentToken;
        }
        try {
            return Files.isRegularFile(tokenFile)
                    ? nonBlank(Files.readString(tokenFile, StandardCharsets.UTF_8)).map(String::strip)
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Where the token comes from, for messages (never the token itself). */
    public String tokenSource() {
        return environmentToken.isPresent() ? "HF_TOKEN" : "the token file " + tokenFile;
    }

    private static Duration seconds(Map<String, String> env, String name, int fallback) {
        Optional<String> value = nonBlank(env.get(name));
        if (value.isPresent() && value.get().strip().matches("\\d{1,6}") && Integer.parseInt(value.get().strip()) > 0) {
            return Duration.ofSeconds(Integer.parseInt(value.get().strip()));
        }
        return Duration.ofSeconds(fallback);
    }

    private static boolean isTrue(String value) {
        return value != null && TRUE_VALUES.contains(value.strip().toUpperCase(Locale.ROOT));
    }

    private static Optional<String> nonBlank(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }

    private static Path expandHome(String value, Path home) {
        String path = value.strip();
        if (path.equals("~")) {
            return home;
        }
        return path.startsWith("~/") ? home.resolve(path.substring(2)) : Path.of(path);
    }

    /** Never shows the token. */
    @Override
    public String toString() {
        return "HubSettings[endpoint=" + endpoint + ", cacheDir=" + cacheDir + ", offline=" + offline
                + ", token=" + (environmentToken.isPresent() ? "(from HF_TOKEN)" : "(none or token file)") + "]";
    }
}
