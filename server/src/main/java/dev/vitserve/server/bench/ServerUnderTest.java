package dev.vitserve.server.bench;

import dev.vitserve.server.Main;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** vitserve started in a child JVM on a free port, as an operator runs it, for load tests. */
final class ServerUnderTest implements AutoCloseable {

    private static final Pattern READY = Pattern.compile("ready in .* at http://[^:]+:(\\d+)/");

    private final Process process;
    private final int port;

    private ServerUnderTest(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static ServerUnderTest start(List<String> serverArgs) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "--port", "0"));
        command.addAll(serverArgs);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        StringBuilder log = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    Matcher m = READY.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                    if (!port.isDone()) {
                        log.append(line).append('\n');
                    }
                }
            } catch (IOException ignored) {
                // the server stopped
            }
            port.completeExceptionally(new IllegalStateException("the server stopped before it was ready:\n" + log));
        }, "server-log");
        reader.setDaemon(true);
        reader.start();
        return new ServerUnderTest(process, port.get(5, TimeUnit.MINUTES));
    }

    int port() {
        return port;
    }

    /** Resident memory of the server process in MB, from /proc (Linux). */
    double residentMb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }

    @Override
    public void close() {
        try {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
