package dev.vitserve.core.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Progress as log lines, as a terminal bar, and as the readiness status; and the hashes files are checked with. */
class DownloadProgressTest {

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong();
    private final List<String> log = new ArrayList<>();
    private final List<String> status = new ArrayList<>();

    @Test
    void logsEveryTenthWithRateAndTimeLeft() {
        long total = 100L << 20;
        DownloadProgress progress = new DownloadProgress("google/vit", "model.safetensors", total, 0,
                new DownloadProgress.Output(null, log::add), status::add, clock::get);
        for (int i = 0; i < 100; i++) {
            clock.addAndGet(100_000_000L); // 1 MB per 0.1 s: 10 MB/s
            progress.advance(1L << 20);
        }
        progress.finish();

        assertEquals("downloading model.safetensors of google/vit: 100.0 MB", log.get(0));
        assertEquals(11, log.size(), log.toString());
        assertEquals("model.safetensors of google/vit: 10.0 MB of 100.0 MB (10%), 10.0 MB/s, about 9 s left", log.get(1));
        assertEquals("model.safetensors of google/vit: 50.0 MB of 100.0 MB (50%), 10.0 MB/s, about 5 s left", log.get(5));
        assertEquals("model.safetensors of google/vit: 100.0 MB of 100.0 MB (100%), 10.0 MB/s", log.get(10));
        assertEquals("downloading google/vit: model.safetensors 0% (0 bytes of 100.0 MB)", status.get(0));
        assertTrue(status.contains("downloading google/vit: model.safetensors 40% (40.0 MB of 100.0 MB)"), status.toString());
        assertEquals("downloading google/vit: model.safetensors 100% (100.0 MB of 100.0 MB)", status.get(status.size() - 1));
    }

    @Test
    void aSlowDownloadIsLoggedEveryTenSeconds() {
        DownloadProgress progress = new DownloadProgress("org/x", "model.safetensors", 1L << 30, 1L << 29,
                new DownloadProgress.Output(null, log::add), status::add, clock::get);
        for (int i = 0; i < 3; i++) {
            clock.addAndGet(DownloadProgress.LOG_EVERY_NANOS);
            progress.advance(1024);
        }
        assertEquals("downloading model.safetensors of org/x: 1.0 GB, resuming at 512.0 MB", log.get(0));
        assertEquals(4, log.size(), log.toString());
        assertTrue(log.get(1).startsWith("model.safetensors of org/x: 512.0 MB of 1.0 GB (50%), 102 bytes/s, about "),
                log.get(1));
    }

    @Test
    void aTerminalGetsABarRedrawnInPlace() {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        PrintStream terminal = new PrintStream(screen, true, StandardCharsets.UTF_8);
        DownloadProgress progress = new DownloadProgress("org/x", "model.safetensors", 10L << 20, 0,
                new DownloadProgress.Output(terminal, log::add), status::add, clock::get);
        for (int i = 0; i < 10; i++) {
            clock.addAndGet(1_000_000_000L);
            progress.advance(1L << 20);
        }
        progress.finish();
        String drawn = screen.toString(StandardCharsets.UTF_8);
        assertTrue(drawn.startsWith("\rmodel.safetensors  10% [###                           ] 1.0 MB / 10.0 MB 1.0 MB/s, "
                + "about 9 s left"), drawn);
        assertTrue(drawn.endsWith("\rmodel.safetensors 100% [##############################] 10.0 MB / 10.0 MB 1.0 MB/s"
                + System.lineSeparator()), drawn);
        assertEquals(List.of(), log, "no log lines when a bar is drawn");
    }

    @Test
    void smallFilesOnlyUpdateTheStatus() {
        DownloadProgress progress = new DownloadProgress("org/x", "config.json", 900, 0,
                new DownloadProgress.Output(null, log::add), status::add, clock::get);
        progress.advance(900);
        progress.finish();
        assertEquals(List.of(), log);
        assertEquals("downloading org/x: config.json 100% (900 bytes of 900 bytes)", status.get(status.size() - 1));
    }

    @Test
    void hashesAreThoseTheHubNamesFilesBy() throws Exception {
        Path hello = Files.writeString(dir.resolve("hello"), "hello\n");
        // git hash-object of "hello\n", and sha256sum of the same bytes
        assertEquals("ce013625030ba8dba906f756967f9e9ca394464a", ContentHash.gitBlobSha1(hello));
        assertEquals("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", ContentHash.sha256(hello));
        assertEquals("193.3 KB", DownloadProgress.size(197_976));
        assertEquals("346.3 MB", DownloadProgress.size(363_116_544));
        assertEquals("abc", HubClient.normalizeEtag("W/\"abc\""));
        assertEquals("abc", HubClient.normalizeEtag("\"abc\""));
        assertEquals("refs%2Fpr%2F1", HubClient.encode("refs/pr/1"));
    }
}
