package dev.stateprobe.decode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.view.PodRecord;
import org.junit.jupiter.api.Test;

class PodIdentityTest {
  private final PodJsonDecoder decoder = new PodJsonDecoder();

  @Test
  void everyPodOfEveryRealKubeletCaptureIsValidStaticPodsWithTheirConfigHashUidsIncluded()
      throws Exception {
    int statics = 0;
    for (String capture : Fixtures.KUBELET_CAPTURES) {
      for (PodRecord p : decoder.decodePodList(Fixtures.kubelet(capture))) {
        assertThat(PodIdentity.invalid(p.namespace(), p.name(), p.uid()))
            .as("%s: %s/%s %s", capture, p.namespace(), p.name(), p.uid())
            .isEmpty();
        statics += p.uid().length() == 32 ? 1 : 0;
      }
    }
    assertThat(statics).isGreaterThanOrEqualTo(13);
  }

  @Test
  void namesAreDns1123Subdomains() {
    assertThat(PodIdentity.isPodName("kube-proxy-kjvgg")).isTrue();
    assertThat(PodIdentity.isPodName("a.b-c.d0")).isTrue();
    assertThat(PodIdentity.isPodName("a".repeat(63) + "." + "b".repeat(63))).isTrue();
    assertThat(PodIdentity.isPodName("a".repeat(254))).isFalse();
    assertThat(PodIdentity.isPodName("a".repeat(64))).isFalse(); // one label too long
    for (String bad :
        new String[] {
          "",
          "Web-0",
          "-web",
          "web-",
          "web..0",
          ".web",
          "web.",
          "web_0",
          "web 0",
          "web/0",
          "web%2F0",
          "web\r\nevent=x",
          "web\u001b[2J",
          "web\u0000",
          "wéb",
          "web\"0",
          "web\\0"
        }) {
      assertThat(PodIdentity.isPodName(bad)).as("%s", bad).isFalse();
    }
    assertThat(PodIdentity.isPodName(null)).isFalse();
  }

  @Test
  void namespacesAreDns1123Labels() {
    assertThat(PodIdentity.isNamespace("kube-system")).isTrue();
    assertThat(PodIdentity.isNamespace("a".repeat(63))).isTrue();
    assertThat(PodIdentity.isNamespace("a".repeat(64))).isFalse();
    assertThat(PodIdentity.isNamespace("kube.system")).isFalse();
    assertThat(PodIdentity.isNamespace("")).isFalse();
    assertThat(PodIdentity.isNamespace("ns\n")).isFalse();
  }

  @Test
  void uidsAreRfc4122TextOrAStaticPodsConfigHash() {
    assertThat(PodIdentity.isUid("0b0bd6b2-9d0e-4c6f-8d35-1b0e7d0c1a11")).isTrue();
    assertThat(PodIdentity.isUid("07bd11a0a13dfe5450a17a39eb8e32d2")).isTrue();
    assertThat(PodIdentity.isUid("0b0bd6b29d0e-4c6f-8d35-1b0e7d0c1a11-")).isFalse();
    assertThat(PodIdentity.isUid("0b0bd6b2-9d0e-4c6f-8d35-1b0e7d0c1a1g")).isFalse();
    assertThat(PodIdentity.isUid("07bd11a0a13dfe5450a17a39eb8e32d")).isFalse();
    assertThat(PodIdentity.isUid("../../../nodes/x")).isFalse();
    assertThat(PodIdentity.isUid("")).isFalse();
  }

  @Test
  void theFirstBadFieldIsNamed() {
    String uid = "0b0bd6b2-9d0e-4c6f-8d35-1b0e7d0c1a11";
    assertThat(PodIdentity.invalid("default", "web-0", uid)).isEmpty();
    assertThat(PodIdentity.invalid("default", "web\n", uid)).contains(PodIdentity.Field.NAME);
    assertThat(PodIdentity.invalid("Default", "web-0", uid)).contains(PodIdentity.Field.NAMESPACE);
    assertThat(PodIdentity.invalid("default", "web-0", "x")).contains(PodIdentity.Field.UID);
  }
}
