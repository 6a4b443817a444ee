package dev.stateprobe.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.coordinator.CoordinatorConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The fleet storm brake's coordinator Deployment and the agents' read of the brake. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CoordinatorDeploymentTest {
  private final RepoFiles repo = new RepoFiles();
  private final Deployment deployment =
      repo.object(repo.manifests().resolve("base/coordinator-deployment.yaml"), Deployment.class);
  private final DaemonSet ds =
      repo.object(repo.manifests().resolve("base/daemonset.yaml"), DaemonSet.class);
  private final PodSpec pod = deployment.getSpec().getTemplate().getSpec();
  private final Container coordinator = pod.getContainers().getFirst();

  private Map<String, EnvVar> env() {
    return coordinator.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
  }

  @Test
  void twoReplicasOfTheAgentsImageInCoordinatorMode() {
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
    assertThat(pod.getContainers()).hasSize(1);
    assertThat(coordinator.getName()).isEqualTo("coordinator");
    assertThat(coordinator.getArgs()).containsExactly("coordinator");
    Container agent = ds.getSpec().getTemplate().getSpec().getContainers().getFirst();
    assertThat(coordinator.getImage()).isEqualTo(agent.getImage());
    assertThat(pod.getServiceAccountName()).isEqualTo("state-probe-coordinator");
  }

  @Test
  void itsPodsAreNotTheAgentsPods() {
    Map<String, String> labels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(deployment.getSpec().getSelector().getMatchLabels()).isEqualTo(labels);
    // The agents' Service and PodMonitor select app.kubernetes.io/name=state-probe.
    assertThat(labels)
        .doesNotContainEntry(
            "app.kubernetes.io/name",
            ds.getSpec().getSelector().getMatchLabels().get("app.kubernetes.io/name"));
  }

  @Test
  void everyVariableItSetsIsOneTheCoordinatorReadsAndItsIdentityComesFromThePod() {
    assertThat(CoordinatorConfig.VARIABLES)
        .containsAll(env().keySet().stream().filter(n -> !n.equals("JAVA_TOOL_OPTIONS")).toList());
    assertThat(env().get("POD_NAME").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("metadata.name");
    assertThat(env().get("POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("metadata.namespace");
    assertThat(coordinator.getPorts().getFirst().getContainerPort())
        .isEqualTo(Integer.parseInt(env().get("HTTP_PORT").getValue()));
    assertThat(coordinator.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
  }

  @Test
  void nonRootReadOnlyRootNoCapabilitiesAndBoundedMemory() {
    var sc = coordinator.getSecurityContext();
    assertThat(sc.getRunAsNonRoot()).isTrue();
    assertThat(sc.getRunAsUser()).isEqualTo(65532L);
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getPrivileged()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    Map<String, Quantity> requests = coordinator.getResources().getRequests();
    Map<String, Quantity> limits = coordinator.getResources().getLimits();
    assertThat(requests).containsKeys("cpu", "memory");
    assertThat(Quantity.getAmountInBytes(limits.get("memory")))
        .isGreaterThan(Quantity.getAmountInBytes(requests.get("memory")));
    assertThat(coordinator.getVolumeMounts())
        .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
  }

  @Test
  void theAgentsObeyTheBrakeItPublishesAndMayReadOnlyThatLease() {
    assertThat(
            ds.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv().stream()
                .filter(e -> e.getName().equals("FLEET_BRAKE"))
                .map(EnvVar::getValue))
        .containsExactly("on");
    Role role = repo.object(repo.manifests().resolve("base/fleet-brake-role.yaml"), Role.class);
    assertThat(role.getRules()).hasSize(1);
    assertThat(role.getRules().getFirst().getResourceNames())
        .containsExactly(dev.stateprobe.fleet.BrakeObject.NAME);
    assertThat(role.getRules().getFirst().getVerbs()).containsExactly("list", "watch");
    RoleBinding binding =
        repo.object(
            repo.manifests().resolve("base/fleet-brake-rolebinding.yaml"), RoleBinding.class);
    assertThat(binding.getSubjects().getFirst().getName()).isEqualTo("state-probe");
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
  }

  @Test
  void theCoordinatorsRoleNamesItsTwoLeases() {
    Role role = repo.object(repo.manifests().resolve("base/coordinator-role.yaml"), Role.class);
    assertThat(role.getRules().get(0).getResourceNames())
        .containsExactly(CoordinatorConfig.LEADER_LEASE);
    assertThat(role.getRules().get(1).getResourceNames())
        .containsExactly(dev.stateprobe.fleet.BrakeObject.NAME);
  }
}
