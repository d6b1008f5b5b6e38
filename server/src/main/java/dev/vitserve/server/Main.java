package dev.vitserve.server;

import dev.vitserve.core.VitServer;
import dev.vitserve.core.config.ConfigException;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.metrics.ServerMetrics;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import sun.misc.Signal;

/** Starts vitserve from the command line: {@code java -jar vitserve.jar --model DIR}. */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger("vitserve");

    private Main() {
    }

    public static void main(String[] args) {
        int status = run(args);
        if (status >= 0) {
            System.exit(status);
        }
    }

    /** Starts the server; returns an exit status to exit with, or -1 while the server keeps running. */
    static int run(String[] args) {
        CommandLine help = ServerConfig.commandLine();
        try {
            if (CommandLine.printHelpIfRequested(help.parseArgs(args))) {
                return 0;
            }
        } catch (ParameterException e) {
            System.err.println("vitserve: " + e.getMessage());
            System.err.println("Run with --help for every option.");
            return 2;
        }
        ServerConfig config;
        try {
            config = ServerConfig.fromArgs(args);
        } catch (ConfigException e) {
            System.err.println("vitserve: " + e.getMessage());
            System.err.println("Run with --help for every option.");
            return 2;
        }
        LogSetup.apply(config.logFormat());

        Vertx vertx = ServerMetrics.newVertx();
        // SIGHUP: serve a renewed TLS certificate (the files are also checked every few seconds); handled from
        // before the start, so that one sent while the server starts does not end the process
        AtomicReference<VitServer> started = new AtomicReference<>();
        Signal.handle(new Signal("HUP"), signal -> reload(started.get()));
        VitServer server;
        try {
            server = VitServer.start(vertx, config).await(30, TimeUnit.DAYS);
            started.set(server);
        } catch (Exception e) {
            LOG.error("cannot start: {}", describe(e));
            LOG.debug("start-up failure", e);
            vertx.close().await();
            return 1;
        }
        AtomicBoolean stopping = new AtomicBoolean();
        Consumer<Duration> stop = grace -> {
            if (!stopping.compareAndSet(false, true)) {
                return;
            }
            LOG.info("stopping: not ready any more; serving on for {} ms, then finishing the requests in progress "
                    + "(up to {} ms)", grace.toMillis(), config.drainTimeout().toMillis());
            try {
                server.shutdown(grace).await(grace.toMillis() + config.drainTimeout().toMillis() + 60_000,
                        TimeUnit.MILLISECONDS);
                vertx.close().await(10, TimeUnit.SECONDS);
                LOG.info("stopped");
            } catch (Exception e) {
                LOG.warn("shutdown was not clean: {}", describe(e));
            }
        };
        // SIGTERM (what Kubernetes, systemd and container runtimes send) serves on through the grace period,
        // so balancers see readiness turn before anything is refused; Ctrl-C is a person waiting: no grace.
        // Both drain and exit with status 0; other exits still close the server.
        Map<String, Duration> graceBySignal = Map.of("TERM", config.shutdownGrace(), "INT", Duration.ZERO);
        graceBySignal.forEach((name, grace) -> Signal.handle(new Signal(name), signal -> new Thread(() -> {
            stop.accept(grace);
            System.exit(0);
        }, "vitserve-stop").start()));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop.accept(Duration.ZERO), "vitserve-shutdown"));
        return -1;
    }

    private static void reload(VitServer server) {
        if (server == null) {
            LOG.info("SIGHUP: the server is still starting; nothing to reload yet");
        } else if (!server.servesTls()) {
            LOG.info("SIGHUP: nothing to reload: SIGHUP reloads the TLS certificate, and this server serves plain "
                    + "HTTP (no --tls-cert)");
        } else {
            server.reloadTls().onComplete(
                    changed -> LOG.info("SIGHUP: TLS certificate {}", changed ? "reloaded" : "unchanged"),
                    failure -> LOG.warn("SIGHUP: TLS certificate not reloaded, the one in use stays: {}",
                            describe(failure)));
        }
    }

    private static String describe(Throwable failure) {
        Throwable t = failure;
        while ((t.getMessage() == null || t instanceof java.util.concurrent.CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    }
}
