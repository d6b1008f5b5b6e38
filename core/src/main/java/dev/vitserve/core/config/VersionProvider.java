package dev.vitserve.core.config;

import picocli.CommandLine.IVersionProvider;

/** Prints vitserve's version for {@code --version}, from the jar's manifest. */
public final class VersionProvider implements IVersionProvider {

    @Override
    public String[] getVersion() {
        String version = ServerConfig.class.getPackage().getImplementationVersion();
        return new String[] {"vitserve " + (version != null ? version : "(development build)"),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
    }
}
