package dev.stateprobe.view;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PodRecordTest {
  @Test
  void aMirrorPodIsNotStaticEvenThoughItCarriesTheFileSourceAnnotation() {
    PodRecord mirror =
        PodRecordBuilder.pod("kube-system", "etcd-n1")
            .mirrorOf("h1", "u-mirror")
            .configSource("file")
            .build();
    assertThat(mirror.isMirror()).isTrue();
    assertThat(mirror.isStatic()).isFalse();
  }

  @Test
  void aStaticPodIsKeyedByItsConfigHash() {
    PodRecord stat = PodRecordBuilder.pod("kube-system", "etcd-n1").staticPod("h1").build();
    assertThat(stat.isStatic()).isTrue();
    assertThat(stat.staticKey()).isEqualTo("h1");
  }
}
