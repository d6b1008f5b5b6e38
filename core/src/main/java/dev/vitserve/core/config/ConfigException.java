package dev.vitserve.core.config;

/** The configuration (flags, environment or config file) cannot be used; the message says why. */
public class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
