package dev.vitserve.core.protocol.oip;

import static dev.vitserve.core.protocol.oip.GrpcAbuseTest.call;
import static dev.vitserve.core.protocol.oip.GrpcAbuseTest.frame;
import static dev.vitserve.core.protocol.oip.GrpcAbuseTest.inferImage;
import static dev.vitserve.core.protocol.oip.GrpcAbuseTest.open;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.protocol.oip.grpc.ModelInferRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelStreamInferResponse;
import dev.vitserve.core.testing.RunningServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ModelStreamInfer over raw HTTP/2 frames: the key and encoding are checked as for a unary call, and one stream
 * carrying good and bad requests answers each, in order, the bad ones in error_message, and ends OK.
 */
@ExtendWith(VertxExtension.class)
class GrpcStreamTest {

    @Test
    void aStreamAnswersEveryRequestInOrderWithItsErrorsInline(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0", "--api-key", "k3y-of-sixteen-chars")) {
            HttpClient client = GrpcAbuseTest.http2(vertx, "127.0.0.1");
            int port = server.server.grpcPort();
            byte[] good = inferImage();
            assertEquals("16", call(client, port, "ModelStreamInfer", frame(false, good)).status(), "no key");
            assertEquals("12", call(client, port, "ModelStreamInfer", frame(true, good), "authorization", "Bearer k3y-of-sixteen-chars",
                    "grpc-encoding", "snappy").status(), "an encoding not offered");

            byte[] badVersion = ModelInferRequest.parseFrom(good).toBuilder().setModelVersion("7").setId("v7").build()
                    .toByteArray();
            Buffer body = frame(false, ModelInferRequest.parseFrom(good).toBuilder().setId("a").build().toByteArray())
                    .appendBuffer(frame(false, badVersion)).appendBuffer(frame(false, new byte[] {(byte) 0xff, 1, 2}))
                    .appendBuffer(frame(false, ModelInferRequest.parseFrom(good).toBuilder().setId("b").build()
                            .toByteArray()));
            HttpClientResponse[] answered = new HttpClientResponse[1];
            Buffer answers = open(client, port, "ModelStreamInfer", "authorization", "Bearer k3y-of-sixteen-chars")
                    .compose(request -> request.send(body)).compose(reply -> {
                        answered[0] = reply;
                        return reply.body();
                    }).await(60, TimeUnit.SECONDS);
            HttpClientResponse response = answered[0];
            assertEquals("0", response.getTrailer("grpc-status"), response.getTrailer("grpc-message"));
            List<ModelStreamInferResponse> messages = new ArrayList<>();
            for (int at = 0; at < answers.length(); at += 5 + answers.getInt(at + 1)) {
                messages.add(ModelStreamInferResponse.parseFrom(answers.getBytes(at + 5, at + 5 + answers.getInt(at + 1))));
            }
            assertEquals(4, messages.size(), messages.toString());
            assertEquals("", messages.get(0).getErrorMessage());
            assertEquals("a", messages.get(0).getInferResponse().getId());
            assertEquals(List.of(1L, 10L), messages.get(0).getInferResponse().getOutputs(0).getShapeList());
            assertEquals("v7", messages.get(1).getInferResponse().getId());
            assertTrue(messages.get(1).getErrorMessage().contains("no version '7'"), messages.get(1).getErrorMessage());
            assertTrue(messages.get(2).getErrorMessage().contains("not a valid ModelInferRequest"),
                    messages.get(2).getErrorMessage());
            assertEquals("", messages.get(3).getErrorMessage());
            assertEquals("b", messages.get(3).getInferResponse().getId());
            assertEquals(messages.get(0).getInferResponse().getRawOutputContents(0),
                    messages.get(3).getInferResponse().getRawOutputContents(0));
            client.close();
        }
    }

    @Test
    void anOpenStreamHoldsOneOfItsClientsPlacesAmongTheCallsReceiving(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0",
                "--max-receiving-per-client", "2")) {
            HttpClient client = GrpcAbuseTest.http2(vertx, "127.0.0.1");
            int port = server.server.grpcPort();
            List<HttpClientRequest> open = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                HttpClientRequest stream = open(client, port, "ModelStreamInfer").await(60, TimeUnit.SECONDS)
                        .setChunked(true);
                stream.write(frame(false, inferImage())).await(60, TimeUnit.SECONDS);
                open.add(stream);
            }
            GrpcAbuseTest.Answer third = call(client, port, "ModelStreamInfer", frame(false, inferImage()));
            assertEquals("8", third.status(), "a third stream from the address: RESOURCE_EXHAUSTED");
            assertTrue(third.message().contains("at most 2 calls and streams from one address"), third.message());
            // a stream ended by its client gives its place back
            HttpClientResponse ended = open.get(0).end().compose(v -> open.get(0).response())
                    .await(60, TimeUnit.SECONDS);
            ended.body().await(60, TimeUnit.SECONDS);
            assertEquals("0", ended.getTrailer("grpc-status"));
            assertEquals("0", call(client, port, "ModelInfer", frame(false, inferImage())).status(), "served after");
            open.get(1).reset();
            client.close();
        }
    }
}
