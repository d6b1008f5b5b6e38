package dev.vitserve.core.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HF_* variables are read as huggingface_hub reads them. */
class HubSettingsTest {

    @TempDir
    Path dir;

    @Test
    void defaultsAreThoseOfHuggingfaceHub() {
        HubSettings settings = HubSettings.fromEnvironment(Map.of());
        Path home = Path.of(System.getProperty("user.home"));
        assertEquals("https://huggingface.co", settings.endpoint());
        assertEquals(home.resolve(".cache/huggingface/hub").toAbsolutePath().normalize(), settings.cacheDir());
        assertEquals(home.resolve(".cache/huggingface/token"), settings.tokenFile());
        assertFalse(settings.offline());
        assertEquals(Optional.empty(), settings.environmentToken());
        assertEquals(Duration.ofSeconds(10), settings.metadataTimeout());
        assertEquals(Duration.ofSeconds(10), settings.downloadTimeout());
    }

    @Test
    void theCacheFollowsHfHubCacheThenHfHomeThenXdgCacheHome() {
        assertEquals(Path.of("/data/hub"), HubSettings.fromEnvironment(Map.of("HF_HUB_CACHE", "/data/hub",
                "HF_HOME", "/data/hf", "XDG_CACHE_HOME", "/xdg")).cacheDir());
        assertEquals(Path.of("/data/old"), HubSettings.fromEnvironment(Map.of("HUGGINGFACE_HUB_CACHE", "/data/old"))
                .cacheDir());
        HubSettings home = HubSettings.fromEnvironment(Map.of("HF_HOME", "/data/hf", "XDG_CACHE_HOME", "/xdg"));
        assertEquals(Path.of("/data/hf/hub"), home.cacheDir());
        assertEquals(Path.of("/data/hf/token"), home.tokenFile());
        assertEquals(Path.of("/xdg/huggingface/hub"), HubSettings.fromEnvironment(Map.of("XDG_CACHE_HOME", "/xdg"))
                .cacheDir());
        assertEquals(Path.of(System.getProperty("user.home"), "models"),
                HubSettings.fromEnvironment(Map.of("HF_HUB_CACHE", "~/models")).cacheDir());
    }

    @Test
    void endpointOfflineAndTimeouts() {
        HubSettings settings = HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "https://hf-mirror.example/",
                "HF_HUB_OFFLINE", "1", "HF_HUB_ETAG_TIMEOUT", "3", "HF_HUB_DOWNLOAD_TIMEOUT", "60"));
        assertEquals("https://hf-mirror.example", settings.endpoint());
        assertTrue(settings.offline());
        assertEquals(Duration.ofSeconds(3), settings.metadataTimeout());
        assertEquals(Duration.ofSeconds(60), settings.downloadTimeout());
        for (String yes : new String[] {"1", "true", "YES", "on"}) {
            assertTrue(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", yes)).offline(), yes);
        }
        for (String no : new String[] {"0", "false", "", "off"}) {
            assertFalse(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", no)).offline(), no);
        }
        assertTrue(HubSettings.fromEnvironment(Map.of("TRANSFORMERS_OFFLINE", "1")).offline());
        assertEquals(Duration.ofSeconds(10),
                HubSettings.fromEnvironment(Map.of("HF_HUB_ETAG_TIMEOUT", "soon")).metadataTimeout());
    }

    @Test
    void theTokenComesFromHfTokenElseFromTheLoginFileAndIsNeverShown() throws Exception {
        Files.writeString(dir.resolve("token"), "hf_from_file\n");
        HubSettings fromFile = HubSettings.fromEnvironment(Map.of("HF_HOME", dir.toString()));
        assertEquals(Optional.of("hf_from_file"), fromFile.token());
        assertEquals("the token file " + dir.resolve("token"), fromFile.tokenSource());

        HubSettings fromEnv = HubSettings.fromEnvironment(Map.of("HF_HOME", dir.toString(), "HF_TOKEN", "hf_env"));
        assertEquals(Optional.of("hf_env"), fromEnv.token());
        assertEquals("HF_TOKEN", fromEnv.tokenSource());
        assertFalse(fromEnv.toString().contains("hf_env"), fromEnv.toString());

        assertEquals(Optional.of("hf_old"), HubSettings.fromEnvironment(Map.of("HF_HOME", dir.resolve("none").toString(),
                "HUGGING_FACE_HUB_TOKEN", "hf_old")).token());
        assertEquals(Optional.empty(), HubSettings.fromEnvironment(Map.of("HF_HOME", dir.resolve("none").toString()))
                .token());
    }

    @Test
    void repoIdsFollowTheHubsRules() {
        assertEquals(Optional.of(new RepoId("google", "vit-base-patch16-224")), RepoId.parse("google/vit-base-patch16-224"));
        assertEquals("models--google--vit-base-patch16-224",
                RepoId.parse("google/vit-base-patch16-224").orElseThrow().cacheFolderName());
        for (String bad : new String[] {"vit", "a/b/c", "/abs", "org/", "org/a--b", "org/..", "org/-x", "org/x.",
            "org/a b", "./x", ""}) {
            assertEquals(Optional.empty(), RepoId.parse(bad), bad);
        }
    }
}
