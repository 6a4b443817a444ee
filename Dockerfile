# syntax=docker/dockerfile:1
#
# The state-probe image, built from a fresh clone:
#   docker build -t state-probe:0.1.0-SNAPSHOT .
# Needs BuildKit (the default builder since Docker 23) for the Maven cache mount
# and COPY --chmod. DockerfileTest checks what can be checked without Docker:
# every Maven module is copied, the jar path matches the pom, the catalog path
# matches the agent's default, and user, port and JVM flags match the DaemonSet.

# ---- build: the Maven wrapper on a JDK ----
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
# The wrapper downloads Maven itself (with curl, wget or, failing both, Java);
# the JDK image needs nothing added.
COPY mvnw ./
COPY .mvn/ .mvn/
COPY pom.xml ./
# One COPY per module of the root pom: Maven refuses a reactor with a module
# folder missing.
COPY agent/pom.xml agent/
COPY agent/src/main/ agent/src/main/
# Tests run in CI (./mvnw verify), not here; the cache mount keeps ~/.m2
# between builds without putting it in a layer.
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -ntp -DskipTests package

# ---- run: a small JRE ----
# Alpine, not the default Ubuntu JRE image: it is smaller, and Alpine packages
# crictl (cri-tools, in the community repository its images enable; Debian 12
# has no such package), so crictl comes from a distribution's signed
# repository and not from a binary download. Alpine's BusyBox also has the
# nsenter applet, which scripts under the host-repair overlay can use to reach
# the host.
FROM eclipse-temurin:25-jre-alpine
# What the shipped repair scripts need and nothing else: bash (their language),
# curl and jq (API calls with the agent's token), crictl (scripts that act on
# the container runtime; usable only with the host-repair overlay, which
# mounts the runtime socket). Versions are not pinned: Alpine removes
# superseded versions from its mirrors, so a pin breaks the build within
# weeks; the base image's tag fixes the Alpine release instead.
# hadolint ignore=DL3018
RUN apk add --no-cache bash curl jq cri-tools \
    && addgroup -S -g 65532 stateprobe \
    && adduser -S -D -H -h /nonexistent -s /sbin/nologin -u 65532 -G stateprobe stateprobe
COPY --from=build /src/agent/target/state-probe.jar /opt/state-probe/state-probe.jar
# The image's own catalog, the agent's default CATALOG_FILE. The DaemonSet
# mounts the same files from a ConfigMap at /etc/state-probe/repair-scripts
# instead, so SRE teams can change them without a new image. Owned by root and
# not writable: the agent runs scripts, it never edits them.
COPY --chmod=0555 repair-scripts/*.sh /opt/state-probe/repair-scripts/
COPY --chmod=0444 repair-scripts/catalog.yaml /opt/state-probe/repair-scripts/catalog.yaml
# The same flags as the DaemonSet's JAVA_TOOL_OPTIONS (manifests/base/daemonset.yaml;
# manifests/README.md says why each); DockerfileTest keeps the two equal.
ENV JAVA_TOOL_OPTIONS="-XX:+UseSerialGC -XX:ActiveProcessorCount=2 -Xms32m -Xmx64m -Xmn8m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -XX:TrimNativeHeapInterval=5000 -Xss256k -XX:MaxMetaspaceSize=64m -XX:ReservedCodeCacheSize=32m -XX:TieredStopAtLevel=1 -XX:+UseCompactObjectHeaders -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError" MALLOC_ARENA_MAX=1
# Numeric, so that Kubernetes can verify runAsNonRoot without /etc/passwd.
USER 65532:65532
EXPOSE 9808
ENTRYPOINT ["java", "-jar", "/opt/state-probe/state-probe.jar"]
CMD ["agent"]
