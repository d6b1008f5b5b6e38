package dev.vitserve.core.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Platform;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Preprocessing threads give way to the engine's (Linux's SCHED_IDLE), and no other thread does. */
@ExtendWith(VertxExtension.class)
class PreprocessPriorityTest {

    @BeforeAll
    static void linuxOnly() {
        assumeTrue(Platform.isLinux(), "scheduling policies are Linux's");
    }

    @Test
    void idleGivesTheCallingThreadTheIdlePolicyOnce() throws Exception {
        int[] policies = onNewThread(() -> {
            int before = LinuxThreadScheduling.policy();
            PreprocessPriority.IDLE.applyToCurrentThread();
            PreprocessPriority.IDLE.applyToCurrentThread();
            return new int[] {before, LinuxThreadScheduling.policy()};
        });
        assertEquals(LinuxThreadScheduling.SCHED_OTHER, policies[0]);
        assertEquals(LinuxThreadScheduling.SCHED_IDLE, policies[1]);
    }

    @Test
    void normalLeavesTheThreadAsItIs() throws Exception {
        assertEquals(LinuxThreadScheduling.SCHED_OTHER, (int) onNewThread(() -> {
            PreprocessPriority.NORMAL.applyToCurrentThread();
            return LinuxThreadScheduling.policy();
        }));
    }

    @Test
    void checkingAvailabilityLeavesTheCallerAlone() {
        assertEquals(java.util.Optional.empty(), PreprocessPriority.IDLE.unavailableReason());
        assertEquals(LinuxThreadScheduling.SCHED_OTHER, LinuxThreadScheduling.policy());
    }

    @Test
    void aServerPreprocessesAtIdlePriorityAndRunsEverythingElseNormally(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--preprocess-threads", "2")) {
            byte[] photo = Fixtures.bytes(Fixtures.image("chelsea.png"));
            for (int i = 0; i < 4; i++) {
                assertEquals(200, server.postImage("/v1/classify", photo, "image/png").statusCode());
            }
            Map<String, Integer> preprocessing = new HashMap<>();
            Map<String, Integer> others = new HashMap<>();
            threadPolicies().forEach((thread, policy) ->
                    (thread.contains("vitserve-prepro") ? preprocessing : others).put(thread, policy));
            assertFalse(preprocessing.isEmpty(), "no preprocessing thread found: " + others.keySet());
            assertTrue(preprocessing.containsValue(LinuxThreadScheduling.SCHED_IDLE), preprocessing.toString());
            others.forEach((thread, policy) ->
                    assertEquals(LinuxThreadScheduling.SCHED_OTHER, policy, thread + " must keep the normal policy"));
        }
    }

    private static <T> T onNewThread(Callable<T> task) throws Exception {
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            return thread.submit(task).get();
        } finally {
            thread.shutdown();
        }
    }

    /** Every thread of this process, as "tid name", with its scheduling policy from /proc. */
    private static Map<String, Integer> threadPolicies() throws IOException {
        Map<String, Integer> policies = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    // after "pid (comm) ", the state is field 3 and the policy field 41
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    policies.put(task.getFileName() + " " + name, Integer.parseInt(fields[41 - 3]));
                } catch (NoSuchFileException ended) {
                    // the thread ended while we listed
                }
            }
        }
        return policies;
    }
}
