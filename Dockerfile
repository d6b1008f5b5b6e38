# vitserve, CPU image: docker build -t vitserve .
# Stage 1 builds the jar with Maven; stage 2 is a slim Debian with a Java 17 runtime, libjpeg-turbo and libwebp.
# BUILD_IMAGE and RUNTIME_IMAGE can point at images made locally (deploy/container/build-local.sh).
ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-17
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
# git: the build-number plugin (core/pom.xml) runs it for the commit in version.properties ("unknown" here,
# as .git is not copied in); the build fails without the git command itself
RUN command -v git >/dev/null \
 || { apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git \
      && rm -rf /var/lib/apt/lists/*; }
WORKDIR /src
COPY . .
# MAVEN_ARGS: e.g. -Pgpu (Dockerfile.gpu does that)
ARG MAVEN_ARGS=""
RUN mvn -B -q -DskipTests ${MAVEN_ARGS} package \
 && mkdir -p /out \
 && cp -r server/target/vitserve.jar server/target/lib /out/ \
 && cp -r testkit/fixtures/tiny-vit /out/tiny-vit

FROM ${RUNTIME_IMAGE}
# openjdk-17-jre-headless: the JVM; libturbojpeg0: fast exact JPEG decoding; libwebp7, libwebpdemux2:
# WebP decoding (still and animated; without them a WebP gets 415); curl: the HEALTHCHECK
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jre-headless libturbojpeg0 libwebp7 libwebpdemux2 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --no-create-home --home-dir /data --shell /usr/sbin/nologin vitserve \
 && mkdir -p /data/hf \
 && chown -R vitserve /data
COPY --from=build /out/vitserve.jar /opt/vitserve/
COPY --from=build /out/lib /opt/vitserve/lib
# the tiny test model (random weights), to try the image without a download: --model /opt/vitserve/tiny-vit
COPY --from=build /out/tiny-vit /opt/vitserve/tiny-vit
# Every option is also an environment variable: VITSERVE_MODEL, VITSERVE_THREADS, VITSERVE_MAX_BATCH, ...
ENV HF_HOME=/data/hf \
    VITSERVE_HOST=0.0.0.0 \
    VITSERVE_PORT=8080
VOLUME ["/data/hf"]
USER 10001
WORKDIR /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${VITSERVE_PORT}/health/ready" \
   || curl -fsSk -o /dev/null "https://127.0.0.1:${VITSERVE_PORT}/health/ready" || exit 1
# exec form: java is PID 1 and gets SIGTERM itself (grace period, drain, exit 0). The heap is half the container's
# memory (the rest: the engine's weights and buffers); requests are admitted against 60% of it (--memory-budget)
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/vitserve/vitserve.jar"]
