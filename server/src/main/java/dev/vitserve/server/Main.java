package dev.vitserve.server;

import dev.vitserve.core.VitServer;
import dev.vitserve.core.config.ConfigException;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.metrics.ServerMetrics;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

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
        CommandLine help = new CommandLine(new ServerConfig());
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

        Vertx vertx = Vertx.vertx(ServerMetrics.vertxOptions());
        VitServer server;
        try {
            server = VitServer.start(vertx, config).await(30, TimeUnit.DAYS);
        } catch (Exception e) {
            LOG.error("cannot start: {}", describe(e));
            LOG.debug("start-up failure", e);
            vertx.close().await();
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("shutting down");
            try {
                server.close().await(60, TimeUnit.SECONDS);
                vertx.close().await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("shutdown was not clean: {}", describe(e));
            }
        }, "vitserve-shutdown"));
        return -1;
    }

    private static String describe(Throwable failure) {
        Throwable t = failure;
        while ((t.getMessage() == null || t instanceof java.util.concurrent.CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    }
}
