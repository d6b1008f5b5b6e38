package dev.vitserve.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every whole-number setting is refused past its range, at start and in a model's own settings (what an admin load
 * takes), with the range in the message; both ends of each range are accepted; docs/operations.md's table says the same.
 */
class SettingRangeTest {

    @ParameterizedTest
    @EnumSource(SettingRange.class)
    void aFlagPastEitherEndIsRefusedWithItsRange(SettingRange range) throws ConfigException {
        for (long wrong : new long[] {range.least() - 1, range.most() + 1}) {
            ConfigException e = assertThrows(ConfigException.class, () -> ServerConfig.fromArgs(Map.of(), "--model", "m",
                    "--" + range.key(), Long.toString(wrong)));
            assertEquals("--" + range.key() + " must be " + range.describe() + ", got " + wrong, e.getMessage());
        }
        for (long right : new long[] {range.least(), range.most()}) {
            if (range == SettingRange.MAX_BATCH_DELAY_MS || range == SettingRange.MAX_QUEUE_WAIT_MS && right < 2) {
                continue; // must also be below / above the other: held below
            }
            ServerConfig.fromArgs(Map.of(), "--model", "m", "--" + range.key(), Long.toString(right));
        }
    }

    @Test
    void theBatchDelayIsShorterThanTheQueueWait() throws ConfigException {
        ConfigException e = assertThrows(ConfigException.class, () -> ServerConfig.fromArgs(Map.of(), "--model", "m",
                "--max-batch-delay-ms", "500", "--max-queue-wait-ms", "500"));
        assertEquals("--max-batch-delay-ms (500) must be shorter than --max-queue-wait-ms (500)", e.getMessage());
        ServerConfig.fromArgs(Map.of(), "--model", "m", "--max-batch-delay-ms", "1000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"threads", "max-batch", "max-batch-delay-ms", "max-queue"})
    void aModelSettingPastItsRangeIsRefused(String key) throws Exception {
        SettingRange range = SettingRange.valueOf(key.toUpperCase().replace('-', '_'));
        ModelSettings defaults = ServerConfig.fromArgs(Map.of(), "--model", "m").models().get(0);
        ObjectMapper json = new ObjectMapper();
        for (String wrong : new String[] {"999999999", "99999999999999999999", "\"999999999\"", "-1", "1.5"}) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> defaults.with(json.readTree("{\"" + key + "\": " + wrong + "}")));
            assertTrue(e.getMessage().startsWith("model setting '" + key + "' must be a whole number from "
                    + range.describe() + ", got "), e.getMessage());
        }
        assertEquals(range.most(), valueOf(defaults.with(json.readTree("{\"" + key + "\": " + range.most() + "}")), key));
    }

    @Test
    void docsListEveryRange() throws IOException {
        String operations = Files.readString(Path.of("..", "docs", "operations.md"));
        for (SettingRange range : SettingRange.values()) {
            assertTrue(operations.contains("| `--" + range.key() + "` | " + range.describe() + " |"),
                    "docs/operations.md's table of settings' ranges has --" + range.key() + " with " + range.describe());
        }
    }

    private static long valueOf(ModelSettings settings, String key) {
        return switch (key) {
            case "threads" -> settings.threads();
            case "max-batch" -> settings.maxBatch();
            case "max-batch-delay-ms" -> settings.maxBatchDelayMs();
            default -> settings.maxQueue();
        };
    }
}
