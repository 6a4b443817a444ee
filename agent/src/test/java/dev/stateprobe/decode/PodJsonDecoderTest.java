package dev.stateprobe.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.view.ContainerState;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PodJsonDecoderTest {
  private final PodJsonDecoder decoder = new PodJsonDecoder();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Map<String, PodRecord> byUid(List<PodRecord> pods) {
    return pods.stream().collect(Collectors.toMap(PodRecord::uid, Function.identity()));
  }

  @ParameterizedTest(name = "{0} decodes to {1} pods")
  @CsvSource({
    Fixtures.K8S_1_35 + ", 24",
    Fixtures.API_1_35 + ", 25",
    Fixtures.K8S_1_24 + ", 25",
    Fixtures.K8S_1_16 + ", 16",
    Fixtures.EVICTED + ", 4",
    Fixtures.K8S_1_10_INIT + ", 5",
    Fixtures.K8S_1_9_GKE + ", 6"
  })
  void everyCaptureDecodes(String file, int pods) throws Exception {
    List<PodRecord> records = decoder.decodePodList(Fixtures.kubelet(file));
    assertThat(records).hasSize(pods);
    assertThat(records).allSatisfy(p -> assertThat(p.uid()).isNotBlank());
  }

  @Test
  void staticPodsKeepTheirConfigHashAsUidAndHaveNoResourceVersion() throws Exception {
    List<PodRecord> statics =
        decoder.decodePodList(Fixtures.kubelet(Fixtures.K8S_1_35)).stream()
            .filter(PodRecord::isStatic)
            .toList();
    assertThat(statics)
        .extracting(PodRecord::name)
        .containsExactlyInAnyOrder(
            "etcd-datagen-1-35",
            "kube-apiserver-datagen-1-35",
            "kube-controller-manager-datagen-1-35",
            "kube-scheduler-datagen-1-35");
    assertThat(statics)
        .allSatisfy(
            p -> {
              assertThat(p.configSource()).isEqualTo("file");
              assertThat(p.staticKey()).isEqualTo(p.uid());
              assertThat(p.resourceVersion()).isNull();
              assertThat(p.creationTimestamp()).isNull();
            });
  }

  @Test
  void mirrorPodsInTheApiDumpPointAtTheKubeletsStaticUids() throws Exception {
    Map<String, PodRecord> kubelet =
        byUid(decoder.decodePodList(Fixtures.kubelet(Fixtures.K8S_1_35)));
    List<PodRecord> mirrors =
        decoder.decodePodList(Fixtures.kubelet(Fixtures.API_1_35)).stream()
            .filter(PodRecord::isMirror)
            .toList();
    assertThat(mirrors).hasSize(4);
    assertThat(mirrors)
        .allSatisfy(
            m -> {
              PodRecord stat = kubelet.get(m.configMirror());
              assertThat(stat).isNotNull();
              assertThat(stat.name()).isEqualTo(m.name());
              assertThat(m.uid()).isNotEqualTo(stat.uid());
            });
  }

  @Test
  void theSamePodFromTheKubeletAndFromKubectlYamlHasEqualDigestsDespiteKeyOrder() throws Exception {
    Map<String, PodRecord> kubelet =
        byUid(decoder.decodePodList(Fixtures.kubelet(Fixtures.K8S_1_35)));
    List<PodRecord> api = decoder.decodePodList(Fixtures.kubelet(Fixtures.API_1_35));
    int shared = 0;
    for (PodRecord a : api) {
      PodRecord k = kubelet.get(a.uid());
      if (k == null) {
        continue;
      }
      shared++;
      assertThat(a.specHash()).as("spec of %s", a.name()).isEqualTo(k.specHash());
      assertThat(a.labelsHash()).as("labels of %s", a.name()).isEqualTo(k.labelsHash());
      assertThat(a.annotationsHash())
          .as("annotations of %s", a.name())
          .isEqualTo(k.annotationsHash());
      assertThat(a.statusHash()).as("status of %s", a.name()).isEqualTo(k.statusHash());
      // The dump was taken minutes later: resourceVersions moved on, as SOURCES.md says.
      assertThat(a.resourceVersion()).isNotEqualTo(k.resourceVersion());
    }
    assertThat(shared).isEqualTo(20);
  }

  @Test
  void aPodReserializedByFabric8DigestsLikeTheOriginal() throws Exception {
    // The control-plane view decodes fabric8's re-serialization of informer objects.
    KubernetesSerialization serialization = new KubernetesSerialization();
    byte[] raw = Fixtures.kubelet(Fixtures.API_1_35);
    PodList list = serialization.unmarshal(new String(raw, StandardCharsets.UTF_8), PodList.class);
    Map<String, PodRecord> direct = byUid(decoder.decodePodList(raw));
    assertThat(list.getItems()).hasSize(25);
    for (Pod pod : list.getItems()) {
      PodRecord viaFabric8 = decoder.decodePod(utf8(serialization.asJson(pod)));
      assertThat(viaFabric8)
          .as(pod.getMetadata().getName())
          .isEqualTo(direct.get(viaFabric8.uid()));
    }
  }

  @Test
  void keepsTheFieldsTheDetectorNeeds() throws Exception {
    Map<String, PodRecord> pods = byUid(decoder.decodePodList(Fixtures.kubelet(Fixtures.K8S_1_35)));
    PodRecord failed =
        pods.values().stream()
            .filter(p -> p.name().equals("e2e-failjob-28dqq"))
            .findFirst()
            .orElseThrow();
    assertThat(failed.phase()).isEqualTo("Failed");
    assertThat(failed.terminal()).isTrue();
    assertThat(failed.controllerKind()).isEqualTo("Job");
    assertThat(failed.nodeName()).isEqualTo("datagen-1-35");
    assertThat(failed.containers())
        .extracting(c -> c.state())
        .containsOnly(ContainerState.TERMINATED);

    PodRecord coredns =
        pods.values().stream()
            .filter(p -> p.name().startsWith("coredns-"))
            .findFirst()
            .orElseThrow();
    assertThat(coredns.namespace()).isEqualTo("kube-system");
    assertThat(coredns.controllerKind()).isEqualTo("ReplicaSet");
    assertThat(coredns.containers())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.name()).isEqualTo("coredns");
              assertThat(c.state()).isEqualTo(ContainerState.RUNNING);
              assertThat(c.ready()).isTrue();
            });
    assertThat(coredns.creationTimestamp()).isNotNull();
  }

  @Test
  void anEvictedPodIsTerminal() throws Exception {
    assertThat(decoder.decodePodList(Fixtures.kubelet(Fixtures.EVICTED)))
        .filteredOn(p -> p.phase().equals("Failed"))
        .singleElement()
        .satisfies(p -> assertThat(p.terminal()).isTrue());
  }

  @Test
  void duplicateNamesWithDifferentUidsStayTwoPods() throws Exception {
    assertThat(decoder.decodePodList(Fixtures.kubelet(Fixtures.K8S_1_9_GKE)))
        .filteredOn(p -> p.name().equals("fluentd-gcp-v2.0.10-9q9t4"))
        .extracting(PodRecord::uid)
        .hasSize(2)
        .doesNotHaveDuplicates();
  }

  @Test
  void deletionFieldsAreRead() throws Exception {
    String pod =
        """
        {"metadata":{"name":"a","namespace":"ns","uid":"u1",
          "deletionTimestamp":"2026-11-26T10:00:30Z","deletionGracePeriodSeconds":30},
         "spec":{"nodeName":"n1"},"status":{"phase":"Running"}}\
        """;
    PodRecord r = decoder.decodePod(utf8(pod));
    assertThat(r.deletionTimestamp()).isEqualTo(Instant.parse("2026-11-26T10:00:30Z"));
    assertThat(r.deletionGracePeriodSeconds()).isEqualTo(30L);
    assertThat(r.deleting()).isTrue();
  }

  @Test
  void kubeletOwnAnnotationsAreNoDifference() throws Exception {
    String api =
        """
        {"metadata":{"name":"a","uid":"u1","annotations":{"team":"x"}}}\
        """;
    String kubelet =
        """
        {"metadata":{"name":"a","uid":"u1","annotations":{"kubernetes.io/config.seen":"2026-01-01T00:00:00Z",
         "team":"x","kubernetes.io/config.source":"api"}}}\
        """;
    PodRecord a = decoder.decodePod(utf8(api));
    PodRecord k = decoder.decodePod(utf8(kubelet));
    assertThat(k.annotationsHash()).isEqualTo(a.annotationsHash());
    assertThat(k.configSource()).isEqualTo("api");
    assertThat(k.isStatic()).isFalse();
  }

  @Test
  void aChangedLabelChangesTheLabelDigestOnly() throws Exception {
    PodRecord a =
        decoder.decodePod(
            utf8(
                "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"labels\":{\"app\":\"web\",\"tier\":\"1\"}},\"spec\":{\"x\":1}}"));
    PodRecord b =
        decoder.decodePod(
            utf8(
                "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"labels\":{\"tier\":\"1\",\"app\":\"web2\"}},\"spec\":{\"x\":1}}"));
    PodRecord c =
        decoder.decodePod(
            utf8(
                "{\"spec\":{\"x\":1},\"metadata\":{\"labels\":{\"tier\":\"1\",\"app\":\"web\"},\"uid\":\"u\",\"name\":\"a\"}}"));
    assertThat(b.labelsHash()).isNotEqualTo(a.labelsHash());
    assertThat(b.specHash()).isEqualTo(a.specHash());
    assertThat(c).isEqualTo(a);
  }

  @Test
  void nullsAndEmptiesAreAbsentButArrayOrderMatters() throws Exception {
    PodRecord plain =
        decoder.decodePod(
            utf8("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"},\"spec\":{\"c\":[1,2]}}"));
    PodRecord padded =
        decoder.decodePod(
            utf8(
                "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"labels\":{}},\"spec\":{\"c\":[1,2],\"v\":[],\"o\":{},\"n\":null,\"s\":\"\"}}"));
    PodRecord swapped =
        decoder.decodePod(
            utf8("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"},\"spec\":{\"c\":[2,1]}}"));
    assertThat(padded).isEqualTo(plain);
    assertThat(swapped.specHash()).isNotEqualTo(plain.specHash());
  }

  @Test
  void aStatusChangeThatMattersChangesTheStatusDigest() throws Exception {
    String base =
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"containerStatuses\":[{\"name\":\"c\",\"ready\":%s,\"restartCount\":0,\"state\":{\"running\":{\"startedAt\":\"%s\"}}}]}}";
    PodRecord a =
        decoder.decodePod(utf8(base.formatted("10.0.0.1", "true", "2026-01-01T00:00:00Z")));
    PodRecord ipAndTimes =
        decoder.decodePod(utf8(base.formatted("10.0.0.2", "true", "2026-01-02T00:00:00Z")));
    PodRecord notReady =
        decoder.decodePod(utf8(base.formatted("10.0.0.1", "false", "2026-01-01T00:00:00Z")));
    assertThat(ipAndTimes.statusHash()).isEqualTo(a.statusHash());
    assertThat(notReady.statusHash()).isNotEqualTo(a.statusHash());
  }

  @Test
  void runningPodsListTheirContainers() throws Exception {
    String json =
        """
        {"kind":"PodList","apiVersion":"v1","metadata":{},"items":[
          {"metadata":{"name":"web-1","namespace":"default","uid":"u1","creationTimestamp":null},
           "spec":{"containers":[{"name":"app","image":"nginx","resources":{}},{"name":"sidecar","image":"x","resources":{}}]},
           "status":{}},
          {"metadata":{"name":"etcd-n1","namespace":"kube-system","uid":"hash1","creationTimestamp":null},
           "spec":{"containers":[]},"status":{}}]}\
        """;
    List<RuntimePod> pods = decoder.decodeRunningPods(utf8(json));
    assertThat(pods)
        .containsExactly(
            new RuntimePod("u1", "default", "web-1", java.util.Set.of("app", "sidecar")),
            new RuntimePod("hash1", "kube-system", "etcd-n1", java.util.Set.of()));
  }

  @Test
  void itemsNullIsAnEmptyList() throws Exception {
    assertThat(decoder.decodePodList(utf8("{\"kind\":\"PodList\",\"items\":null}"))).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "garbage | <html>bad gateway</html> | malformed JSON at line 1",
        "truncated | {\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"a\" | malformed"
            + " JSON",
        "not an object | [1,2] | expected a PodList object",
        "wrong kind | {\"kind\":\"Status\",\"items\":[]} | kind is Status, expected PodList",
        "no items | {\"kind\":\"PodList\"} | no items field",
        "item without uid |"
            + " {\"items\":[{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"}},{\"metadata\":{\"name\":\"b\"}}]}"
            + " | pod (item 1) has no metadata.uid",
        "bad timestamp |"
            + " {\"items\":[{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"creationTimestamp\":\"yesterday\"}}]}"
            + " | metadata.creationTimestamp (item 0) 'yesterday' is not an RFC 3339 time",
        "trailing content | {\"items\":[]} {} | trailing content",
        "empty body | '' | expected a PodList object"
      })
  void badRepliesAreRefusedWithAMessageThatSaysWhere(String name, String body, String message) {
    assertThatThrownBy(() -> decoder.decodePodList(utf8(body)))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining(message);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "2026-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2024-02-29T23:59:59Z",
    "2000-12-31T12:34:56Z",
    "1969-07-20T20:17:40Z"
  })
  void kubernetesTimesReadTheSameAsInstantParse(String text) {
    assertThat(PodJsonDecoder.kubernetesTime(text)).isEqualTo(Instant.parse(text));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "2026-01-01T00:00:00.5Z",
    "2026-01-01T00:00:00+01:00",
    "2023-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:00:60Z",
    "2026-01-01 00:00:00Z",
    "2026-0a-01T00:00:00Z"
  })
  void otherTimeFormsAreLeftToInstantParse(String text) {
    assertThat(PodJsonDecoder.kubernetesTime(text)).isNull();
  }

  @Test
  void timesWithFractionsAndOffsetsStillDecode() throws Exception {
    PodRecord pod =
        decoder.decodePod(
            utf8(
                "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\","
                    + "\"creationTimestamp\":\"2026-01-01T01:00:00.250+01:00\","
                    + "\"deletionTimestamp\":\"2026-01-01T00:00:30Z\"}}"));
    assertThat(pod.creationTimestamp()).isEqualTo(Instant.parse("2026-01-01T00:00:00.250Z"));
    assertThat(pod.deletionTimestamp()).isEqualTo(Instant.parse("2026-01-01T00:00:30Z"));
  }

  @Test
  void anImpossibleDateIsRefusedLikeAnyBadTimestamp() {
    assertThatThrownBy(
            () ->
                decoder.decodePod(
                    utf8(
                        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\","
                            + "\"creationTimestamp\":\"2023-02-29T00:00:00Z\"}}")))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("'2023-02-29T00:00:00Z' is not an RFC 3339 time");
  }

  @Test
  void numbersDigestByValueSoEqualIntegersMatchAndDifferentOnesDoNot() throws Exception {
    String pod = "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"},\"spec\":{\"n\":%s}}";
    long seven = decoder.decodePod(utf8(pod.formatted("7"))).specHash();
    assertThat(decoder.decodePod(utf8(pod.formatted("7"))).specHash()).isEqualTo(seven);
    assertThat(decoder.decodePod(utf8(pod.formatted("8"))).specHash()).isNotEqualTo(seven);
    assertThat(decoder.decodePod(utf8(pod.formatted("\"7\""))).specHash()).isNotEqualTo(seven);
    assertThat(decoder.decodePod(utf8(pod.formatted("123456789012345678901234567890"))).specHash())
        .isNotEqualTo(
            decoder.decodePod(utf8(pod.formatted("123456789012345678901234567891"))).specHash());
  }

  @Test
  void stringsThatDifferInOneCharacterAnywhereDigestDifferently() throws Exception {
    String base = "registry.k8s.io/kube-apiserver:v1.35.0@sha256:0123456789abcdef";
    String pod = "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"},\"spec\":{\"image\":\"%s\"}}";
    long h = decoder.decodePod(utf8(pod.formatted(base))).specHash();
    for (int i = 0; i < base.length(); i++) {
      char[] c = base.toCharArray();
      c[i] = c[i] == 'x' ? 'y' : 'x';
      assertThat(decoder.decodePod(utf8(pod.formatted(new String(c)))).specHash())
          .as("changed at %d", i)
          .isNotEqualTo(h);
    }
    assertThat(decoder.decodePod(utf8(pod.formatted(base + "0"))).specHash()).isNotEqualTo(h);
  }

  @Test
  void aDuplicateKeyInAnyObjectIsMalformed() {
    String twoUids =
        "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"web-0\","
            + "\"uid\":\"0b0bd6b2-9d0e-4c6f-8d35-1b0e7d0c1a11\","
            + "\"uid\":\"1b0bd6b2-9d0e-4c6f-8d35-1b0e7d0c1a11\"}}]}";
    assertThatThrownBy(() -> decoder.decodePodList(twoUids.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("malformed JSON")
        .hasMessageContaining("uid");
    String twoItems = "{\"kind\":\"PodList\",\"items\":[],\"items\":[]}";
    assertThatThrownBy(() -> decoder.decodePodList(twoItems.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(DecodeException.class);
    String running = "{\"items\":[{\"metadata\":{\"name\":\"a\",\"name\":\"b\",\"uid\":\"u\"}}]}";
    assertThatThrownBy(() -> decoder.decodeRunningPods(running.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(DecodeException.class);
  }

  @Test
  void aListOfMoreItemsThanAllowedIsTooLargeNotMalformed() throws Exception {
    byte[] capture = Fixtures.kubelet(Fixtures.K8S_1_35);
    assertThat(decoder.decodePodList(capture, 0, capture.length, 24)).hasSize(24);
    assertThatThrownBy(() -> decoder.decodePodList(capture, 0, capture.length, 23))
        .isInstanceOfSatisfying(DecodeException.class, e -> assertThat(e.tooLarge()).isTrue())
        .hasMessageContaining("more than 23 items");
  }
}
