package dev.vitserve.core.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for every listener of the server ({@code --tls-cert}, {@code --tls-key}, PEM): {@link #apply}
 * turns any {@link HttpServerOptions} into TLS options with HTTP/2 and HTTP/1.1 offered through
 * ALPN; {@link #register} a server once it listens, and {@link #reload} (on SIGHUP, or every few
 * seconds by {@link #watch}) puts a changed certificate into every registered server without
 * closing a connection: connections already open keep the old one, new ones get the new one.
 */
public final class ListenerTls {

    private static final Logger LOG = LoggerFactory.getLogger(ListenerTls.class);

    private final Path certificate;
    private final Path key;
    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private byte[] certificateBytes;
    private byte[] keyBytes;

    /** TLS from a PEM certificate chain and its PEM private key (PKCS#8, or PKCS#1 RSA); reads both now. */
    public ListenerTls(Path certificate, Path key) {
        this.certificate = certificate;
        this.key = key;
        this.certificateBytes = read(certificate, "--tls-cert");
        this.keyBytes = read(key, "--tls-key");
    }

    /** The options given, listening with TLS and offering HTTP/2 then HTTP/1.1 through ALPN. */
    public synchronized HttpServerOptions apply(HttpServerOptions options) {
        return options.setSsl(true).setKeyCertOptions(keyCert()).setUseAlpn(true)
                .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1));
    }

    /** Keeps the server's certificate current from now on. */
    public void register(HttpServer server) {
        servers.add(server);
    }

    /** Stops updating the server (it is closing). */
    public void unregister(HttpServer server) {
        servers.remove(server);
    }

    /**
     * Reads the files again on a worker thread; when they changed, puts them into every registered
     * server. Completes with whether they changed; fails, keeping the certificate in use, when the
     * files cannot be read or are not a valid certificate and key (for instance half-written).
     */
    public Future<Boolean> reload(Vertx vertx) {
        return vertx.executeBlocking(() -> {
            byte[] newCertificate = read(certificate, "--tls-cert");
            byte[] newKey = read(key, "--tls-key");
            synchronized (this) {
                if (Arrays.equals(newCertificate, certificateBytes) && Arrays.equals(newKey, keyBytes)) {
                    return null;
                }
            }
            return new byte[][] {newCertificate, newKey};
        }, false).compose(changed -> {
            if (changed == null) {
                return Future.succeededFuture(false);
            }
            ServerSSLOptions ssl = new ServerSSLOptions().setKeyCertOptions(new PemKeyCertOptions()
                    .setCertValue(Buffer.buffer(changed[0])).setKeyValue(Buffer.buffer(changed[1])))
                    .setUseAlpn(true);
            List<Future<Boolean>> updates = new ArrayList<>();
            for (HttpServer server : servers) {
                updates.add(server.updateSSLOptions(ssl, true));
            }
            return Future.all(updates).map(done -> {
                synchronized (this) {
                    certificateBytes = changed[0];
                    keyBytes = changed[1];
                }
                LOG.info("TLS certificate reloaded from {} into {} listener(s)", certificate, updates.size());
                return true;
            });
        });
    }

    /** Reloads every {@code period} when the files changed (Kubernetes updates mounted secrets in place); returns the timer. */
    public long watch(Vertx vertx, Duration period) {
        return vertx.setPeriodic(period.toMillis(), period.toMillis(), timer -> reload(vertx).onFailure(failure ->
                LOG.warn("TLS certificate not reloaded, the one in use stays: {}", failure.getMessage())));
    }

    private PemKeyCertOptions keyCert() {
        return new PemKeyCertOptions().setCertValue(Buffer.buffer(certificateBytes)).setKeyValue(Buffer.buffer(keyBytes));
    }

    private static byte[] read(Path file, String option) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalStateException(option + " " + file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(option + " " + file + ": cannot be read: " + e.getMessage(), e);
        }
    }
}
