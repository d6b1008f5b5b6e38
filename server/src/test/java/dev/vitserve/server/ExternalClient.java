package dev.vitserve.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs client programs vitserve did not write (Node's {@code @huggingface/inference}, Python's
 * {@code grpcio}) as child processes; their scripts are test resources under {@code clients/},
 * copied into {@code target/clients} where the npm packages are installed.
 */
final class ExternalClient {

    /** Where the client scripts and their npm packages go. */
    static final Path FOLDER = Path.of("target", "clients").toAbsolutePath();

    /** Debian's Python, which has grpcio and grpc_tools. */
    static final String PYTHON = "/usr/bin/python3";

    private ExternalClient() {
    }

    /** The program's standard output; fails the test on a non-zero exit or a hang. */
    static String run(Path workingDirectory, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        Process process = builder.start();
        byte[] out;
        try (InputStream in = process.getInputStream()) {
            out = in.readAllBytes();
        }
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(command + " did not finish in 180 s");
        }
        String output = new String(out, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IllegalStateException(command + " exited with " + process.exitValue() + ": " + output);
        }
        return output;
    }

    /** Skips the test, saying why, unless the program answers {@code --version}. */
    static void assumeInstalled(String program, String whereFrom) {
        boolean found;
        try {
            Process process = new ProcessBuilder(program, "--version").redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            found = process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            found = false;
        }
        Assumptions.assumeTrue(found, program + " is not installed (" + whereFrom + "; .ci/run installs it): "
                + "this test of an independent client is skipped");
    }

    /** Copies the client scripts of the test resources into {@link #FOLDER}. */
    static Path scripts(String... names) throws IOException {
        Files.createDirectories(FOLDER);
        for (String name : names) {
            try (InputStream in = ExternalClient.class.getResourceAsStream("/clients/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("test resource clients/" + name + " is missing");
                }
                Files.copy(in, FOLDER.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return FOLDER;
    }

    /**
     * Copies the Python gRPC client scripts into {@link #FOLDER} with stubs that Debian's grpc_tools generates
     * there from the {@code grpc_service.proto} in vitserve's jar; skips the test when Python's grpcio,
     * grpc_tools, numpy or Pillow is missing.
     */
    static Path pythonGrpcClient(String... scripts) throws IOException, InterruptedException {
        return pythonGrpcClient(List.of("/grpc_service.proto"), scripts);
    }

    /**
     * The same with stubs generated from Triton's own {@code grpc_service.proto} and {@code model_config.proto}
     * (test resources {@code triton/}), in a folder of their own.
     */
    static Path tritonGrpcClient(String... scripts) throws IOException, InterruptedException {
        return pythonGrpcClient(List.of("/triton/grpc_service.proto", "/triton/model_config.proto"), scripts);
    }

    private static Path pythonGrpcClient(List<String> protos, String... scripts)
            throws IOException, InterruptedException {
        assumeInstalled(PYTHON, "Debian package python3");
        Path folder = scripts(scripts);
        try {
            run(folder, List.of(PYTHON, "-c", "import grpc, grpc_tools, numpy, PIL"));
        } catch (IllegalStateException e) {
            Assumptions.abort("Python's grpcio, grpc_tools, numpy or Pillow is missing (Debian packages python3-grpcio, "
                    + "python3-grpc-tools, python3-numpy, python3-pil; .ci/run installs them): " + e.getMessage());
        }
        if (protos.size() > 1) {
            // Triton's stubs apart from vitserve's, which have the same module name
            Path triton = folder.resolve("triton");
            Files.createDirectories(triton);
            for (String script : scripts) {
                Files.copy(folder.resolve(script), triton.resolve(script), StandardCopyOption.REPLACE_EXISTING);
            }
            folder = triton;
        }
        List<String> command = new ArrayList<>(List.of(PYTHON, "-m", "grpc_tools.protoc", "-I.", "--python_out=.",
                "--grpc_python_out=."));
        for (String proto : protos) {
            String name = Path.of(proto).getFileName().toString();
            try (InputStream in = ExternalClient.class.getResourceAsStream(proto)) {
                Files.copy(in, folder.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
            command.add(name);
        }
        run(folder, command);
        return folder;
    }

    /** Installs the npm packages pinned in clients/package.json into {@link #FOLDER}, once. */
    static Path npmPackages() throws IOException, InterruptedException {
        assumeInstalled("node", "Debian package nodejs");
        assumeInstalled("npm", "Debian package npm");
        Path folder = scripts("package.json");
        if (!Files.isDirectory(folder.resolve("node_modules").resolve("@huggingface").resolve("inference"))) {
            List<String> install = new ArrayList<>(List.of("npm", "install", "--no-audit", "--no-fund",
                    "--no-package-lock", "--loglevel=error"));
            run(folder, install);
        }
        return folder;
    }
}
