# syntax=docker/dockerfile:1
#
# The state-probe images, built from a fresh clone:
#   docker build -t state-probe:0.1.0-SNAPSHOT .
#       the default image: the agent and what the API-only repair scripts need
#   docker build --target host-repair -t state-probe:0.1.0-SNAPSHOT-host-repair .
#       the same plus crictl, for the host-repair overlay (manifests/overlays/host-repair)
#   docker buildx build --platform linux/amd64,linux/arm64 ...
#       multi-arch: Maven runs once, natively, on the builder's platform (the jar is the same
#       for every platform); only the Alpine steps run per platform
# Labels: pass --build-arg VERSION=... REVISION=$(git rev-parse HEAD) CREATED=$(date -u +%FT%TZ).
# Needs BuildKit (the default builder since Docker 23) for the Maven cache mount,
# COPY --chmod and $BUILDPLATFORM. DockerfileTest checks what can be checked without Docker:
# every Maven module and what its build copies from elsewhere is copied, the jar path
# matches the pom, the catalog path matches the agent's default, and user, port and JVM
# flags match the DaemonSet;
# ImageCommandsTest checks that the scripts and the agent need nothing the image lacks.

# Base images, pinned by digest so that a rebuild gets the same bytes until someone
# moves the pin on purpose. These digests are ones that published builds of these tags
# used (public Dockerfiles and build logs); the machine that wrote this file had no
# registry access, so they were not resolved here. Before a release, check them (a
# multi-arch build needs the index digest, not one platform's), and to move a pin:
#   docker buildx imagetools inspect eclipse-temurin:25-jdk          (first "Digest:" line)
#   docker buildx imagetools inspect eclipse-temurin:25-jre-alpine
# and replace the digest below, or override it for one build with
#   --build-arg JDK_IMAGE=eclipse-temurin:25-jdk@sha256:<digest>
# A digest that does not exist, or does not belong to the tag, fails the build at FROM.
ARG JDK_IMAGE=eclipse-temurin:25-jdk@sha256:68868d04fa9cfd5f5c6abec0b5cef86d8de2bf9c62c37c7d3e4f0f80f5cfd7ff
ARG JRE_IMAGE=eclipse-temurin:25-jre-alpine@sha256:3137541deb3cac6626b5d9a4a2187bc0d6a34312f858bd2c67dd01e732e6b682

# ---- build: the Maven wrapper on a JDK, on the builder's own platform ----
FROM --platform=$BUILDPLATFORM ${JDK_IMAGE} AS build
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
# What the agent's build copies into the demo jar from where it is committed
# (agent/pom.xml, copy-resources): the CRD, the kubelet capture the demo's node
# is built from, and the prologue the demo's scripts source.
COPY manifests/crds/consistencyrepairjobs.stateprobe.dev.yaml manifests/crds/
COPY agent/src/test/resources/fixtures/kubelet/kubelet-pods_k8s-1.35_minikube-containerd_nri-kubernetes.json agent/src/test/resources/fixtures/kubelet/
COPY repair-scripts/pod-api.sh repair-scripts/
# Tests run in CI (./mvnw verify), not here; the cache mount keeps ~/.m2
# between builds without putting it in a layer.
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -ntp -DskipTests package

# ---- runtime: a small JRE, the default image ----
# Alpine, not the default Ubuntu JRE image: it is smaller, its BusyBox has the
# applets the scripts use (the tests run every shipped script with those
# applets: ScriptUserland), and Alpine packages crictl (cri-tools, in the
# community repository its images enable; Debian 12 has no such package), so
# the host-repair image gets crictl from a distribution's signed repository and
# not from a binary download.
FROM ${JRE_IMAGE} AS runtime
ARG JRE_IMAGE
ARG VERSION=0.1.0-SNAPSHOT
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="state-probe" \
      org.opencontainers.image.description="Node agent that detects and repairs drift between the API server, the kubelet and the runtime." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${JRE_IMAGE}"
# What the shipped API-calling repair scripts need and nothing else: bash
# (their language), curl and jq (API calls with the agent's token). No host
# tools: the scripts that need the host (crictl, the host's systemd) exit 3,
# "cannot repair here", in this image. Versions are not pinned: Alpine removes
# superseded versions from its mirrors, so a pin breaks the build within weeks;
# the base image's digest fixes the Alpine release instead.
# hadolint ignore=DL3018
RUN apk add --no-cache bash curl jq \
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

# ---- host-repair: the default image plus crictl ----
# For the host-repair overlay only, which also mounts the runtime socket and
# runs the agent as root; in the default install crictl could reach nothing.
FROM runtime AS host-repair
LABEL org.opencontainers.image.description="state-probe with crictl, for the host-repair overlay: node agent that detects and repairs drift between the API server, the kubelet and the runtime."
USER 0:0
# hadolint ignore=DL3018
RUN apk add --no-cache cri-tools
USER 65532:65532

# ---- the default target ----
# `docker build` without --target builds the last stage: the image without host tools.
FROM runtime AS default
