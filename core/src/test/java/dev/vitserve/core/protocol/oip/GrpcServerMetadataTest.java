package dev.vitserve.core.protocol.oip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vitserve.core.protocol.oip.grpc.ServerMetadataResponse;
import dev.vitserve.core.testing.RunningServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** gRPC's ServerMetadata lists the extensions gRPC offers: not REST's binary tensor data. */
@ExtendWith(VertxExtension.class)
class GrpcServerMetadataTest {

    @Test
    void serverMetadataListsOnlyTheExtensionsGrpcOffers(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0")) {
            HttpClient client = GrpcLimitsTest.http2(vertx);
            Buffer body = client.request(HttpMethod.POST, server.server.grpcPort(), "127.0.0.1",
                            "/inference.GRPCInferenceService/ServerMetadata")
                    .compose(request -> request.putHeader("content-type", "application/grpc").putHeader("te", "trailers")
                            .send(Buffer.buffer().appendByte((byte) 0).appendInt(0)))
                    .compose(answer -> answer.body()).await(30, TimeUnit.SECONDS);
            ServerMetadataResponse metadata = ServerMetadataResponse.parseFrom(body.getBytes(5, body.length()));
            assertEquals("vitserve", metadata.getName());
            assertEquals(List.of("classification"), metadata.getExtensionsList());
            assertEquals(List.of("binary_tensor_data", "classification"), server.get("/v2").bodyAsJsonObject()
                    .getJsonArray("extensions").getList(), "REST keeps its own");
            client.close();
        }
    }
}
