/**
 * The HTTP transport, the same for every protocol: listeners and TLS ({@link dev.vitserve.core.http.ListenerTransport},
 * {@link dev.vitserve.core.http.ListenerTls}), the connection guard, the request and receiving limits, the API key,
 * body reading and forms, reading a request's images (raw body, multipart, JSON, URL fetching), request ids, the
 * access log and the error answers; and the checks a door's routes run ({@link dev.vitserve.core.http.DoorRoutes}).
 * Protocols live in {@code dev.vitserve.core.protocol} as {@link dev.vitserve.core.http.Door}s; only the verticles
 * that assemble a listener's routes ({@code ApiVerticle}, {@code AdminVerticle}) name them.
 */
package dev.vitserve.core.http;
