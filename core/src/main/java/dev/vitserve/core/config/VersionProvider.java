package dev.vitserve.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** Prints vitserve's version for {@code --version}: the project version and, when built from git, the commit. */
public final class VersionProvider implements IVersionProvider {

    private static final String FILE = "vitserve/version.properties";

    @Override
    public String[] getVersion() {
        return new String[] {"vitserve " + describe(),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
    }

    /** vitserve's project version, e.g. "0.1.0-SNAPSHOT". */
    public static String version() {
        String version = filled(build().getProperty("version"));
        return version != null ? version : "(version unknown)";
    }

    /** "0.1.0-SNAPSHOT (git 1a2b3c4d5e)", with ", modified" when the working tree had changes. */
    public static String describe() {
        Properties build = build();
        String commit = filled(build.getProperty("commit"));
        StringBuilder text = new StringBuilder(version());
        if (commit != null) {
            text.append(" (git ").append(commit);
            if ("true".equals(filled(build.getProperty("dirty")))) {
                text.append(", modified");
            }
            text.append(')');
        }
        return text.toString();
    }

    private static Properties build() {
        Properties build = new Properties();
        try (InputStream in = VersionProvider.class.getClassLoader().getResourceAsStream(FILE)) {
            if (in != null) {
                build.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + FILE, e);
        }
        return build;
    }

    /** The value, or null when the build left it empty or unfilled (built outside git). */
    private static String filled(String value) {
        return value == null || value.isBlank() || value.contains("${") || value.equals("unknown") ? null : value.strip();
    }
}
