package dev.vitserve.server;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import dev.vitserve.core.config.ServerConfig.LogFormat;
import java.net.URL;
import org.slf4j.LoggerFactory;

/** Switches logback to the JSON configuration for {@code --log-format json} (text is logback.xml). */
final class LogSetup {

    private static final String JSON_CONFIG = "vitserve/logback-json.xml";

    private LogSetup() {
    }

    static void apply(LogFormat format) {
        if (format != LogFormat.JSON || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        URL json = LogSetup.class.getClassLoader().getResource(JSON_CONFIG);
        if (json == null) {
            throw new IllegalStateException(JSON_CONFIG + " is missing from the classpath");
        }
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(json);
        } catch (JoranException e) {
            throw new IllegalStateException("cannot configure JSON logging: " + e.getMessage(), e);
        }
    }
}
