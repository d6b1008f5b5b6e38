package dev.vitserve.core.config;

import picocli.CommandLine.IVersionProvider;

/** Prints vitserve's version for {@code --version}, from the jar's manifest. */
public final class VersionProvider implements IVersionProvider {

    /** vitserve's version from the jar's manifest, or "development build" when run from classes. */
    public static String version() {
        String version = ServerConfig.class.getPackage().getImplementationVersion();
        return version != null ? version : "development build";
    }

    @Override
    public String[] getVersion() {
        String version = ServerConfig.class.getPackage().getImplementationVersion();
        return new String[] {"vitserve " + (version != null ? version : "(development build)"),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
    }
}
