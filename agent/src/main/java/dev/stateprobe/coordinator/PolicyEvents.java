package dev.stateprobe.coordinator;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.policy.InvalidPolicy;
import dev.stateprobe.policy.PolicyDecoder;
import dev.stateprobe.policy.PolicyException;
import dev.stateprobe.report.Logfmt;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.events.v1.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of {@code PolicyInvalid} Events: while this coordinator leads, it lists and
 * watches the ConsistencyPolicies, judges each version with the agents' own {@link PolicyDecoder},
 * and writes one {@code events.k8s.io/v1} Warning per invalid version, regarding the policy, whose
 * note is the agents' message. The agents only log and count (5,000 of them would write the same
 * Event). The Event's name is the policy's and its resourceVersion's, so a new leader that judges
 * the same version again meets a 409 and writes nothing more.
 */
final class PolicyEvents implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");
  static final String REASON = "PolicyInvalid";
  private static final DateTimeFormatter MICRO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
  static final ResourceDefinitionContext POLICIES =
      new ResourceDefinitionContext.Builder()
          .withGroup("stateprobe.dev")
          .withVersion("v1alpha1")
          .withPlural("consistencypolicies")
          .withKind("ConsistencyPolicy")
          .withNamespaced(false)
          .build();

  private final KubernetesClient client;
  private final String namespace;
  private final String identity;
  private final Clock clock;
  private final PolicyDecoder decoder =
      new PolicyDecoder(
          Arrays.stream(DriftKind.values())
              .map(DriftKind::wireName)
              .collect(Collectors.toUnmodifiableSet()));

  /** The version last judged, by policy name: an informer's resync does not write again. */
  private final Map<String, String> judged = new ConcurrentHashMap<>();

  private volatile SharedIndexInformer<GenericKubernetesResource> informer;

  /**
   * @param namespace where the Events go (the coordinator's: the policy is cluster-scoped)
   */
  PolicyEvents(KubernetesClient client, String namespace, String identity, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.identity = identity;
    this.clock = clock;
  }

  /**
   * Starts the list/watch. Never fails: without the policies (no CRD, no grant) the brake goes on
   * and only these Events are missing, which the log says.
   */
  PolicyEvents start() {
    try {
      informer = inform();
    } catch (RuntimeException e) {
      LOG.warn("event=policy_events_unavailable error=\"{}\"", Logfmt.escaped(String.valueOf(e)));
    }
    return this;
  }

  private SharedIndexInformer<GenericKubernetesResource> inform() {
    return client
        .genericKubernetesResources(POLICIES)
        .inform(
            new ResourceEventHandler<>() {
              @Override
              public void onAdd(GenericKubernetesResource p) {
                judge(p);
              }

              @Override
              public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource p) {
                judge(p);
              }

              @Override
              public void onDelete(GenericKubernetesResource p, boolean unknownFinalState) {
                judged.remove(p.getMetadata().getName());
              }
            },
            0);
  }

  private void judge(GenericKubernetesResource p) {
    String name = p.getMetadata().getName();
    String version = String.valueOf(p.getMetadata().getResourceVersion());
    if (version.equals(judged.put(name, version))) {
      return;
    }
    byte[] json = client.getKubernetesSerialization().asJson(p).getBytes(StandardCharsets.UTF_8);
    try {
      decoder.decode(json);
    } catch (PolicyException e) {
      write(e.invalid(), p);
    } catch (RuntimeException e) {
      LOG.warn(
          "event=policy_judge_failed policy={} error=\"{}\"",
          Logfmt.value(name),
          Logfmt.escaped(e.toString()));
    }
  }

  private void write(InvalidPolicy bad, GenericKubernetesResource p) {
    Instant now = clock.instant();
    String name = eventName(p.getMetadata().getName(), p.getMetadata().getResourceVersion());
    try {
      client
          .events()
          .v1()
          .events()
          .inNamespace(namespace)
          .resource(
              new EventBuilder()
                  .withNewMetadata()
                  .withName(name)
                  .withNamespace(namespace)
                  .endMetadata()
                  .withEventTime(new MicroTime(MICRO.format(now)))
                  .withReportingController(Coordinator.CONTROLLER)
                  .withReportingInstance(identity)
                  .withAction("Validate")
                  .withReason(REASON)
                  .withType("Warning")
                  .withRegarding(
                      new ObjectReferenceBuilder()
                          .withApiVersion("stateprobe.dev/v1alpha1")
                          .withKind("ConsistencyPolicy")
                          .withName(p.getMetadata().getName())
                          .withUid(p.getMetadata().getUid())
                          .withResourceVersion(p.getMetadata().getResourceVersion())
                          .build())
                  .withNote(note(bad))
                  .build())
          .create();
      LOG.info(
          "event=policy_invalid_event policy={} field={} version={}",
          Logfmt.value(p.getMetadata().getName()),
          Logfmt.value(bad.field()),
          Logfmt.value(String.valueOf(p.getMetadata().getResourceVersion())));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return; // an earlier leader wrote it
      }
      judged.remove(p.getMetadata().getName()); // the next resync or change tries again
      LOG.warn(
          "event=policy_event_failed policy={} error=\"{}\"",
          Logfmt.value(p.getMetadata().getName()),
          Logfmt.escaped(e.getMessage()));
    }
  }

  /** The agents' sentence: the field at fault and what is wrong with it, within 1 kB. */
  static String note(InvalidPolicy bad) {
    String s = "ignored by every agent: " + bad.field() + ": " + bad.message();
    return s.length() <= 1000 ? s : s.substring(0, 1000);
  }

  /**
   * {@code <policy>.invalid.<resourceVersion>}: one per version, a valid Event name (the policy's
   * name is a DNS subdomain already; the version is kept to its letters and digits).
   */
  static String eventName(String policy, String resourceVersion) {
    String v = String.valueOf(resourceVersion).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    String head = policy.length() > 200 ? policy.substring(0, 200) : policy;
    if (head.endsWith(".") || head.endsWith("-")) {
      head = head.substring(0, head.length() - 1) + "x";
    }
    return head + ".invalid." + (v.isEmpty() ? "0" : v);
  }

  @Override
  public void close() {
    SharedIndexInformer<GenericKubernetesResource> i = informer;
    if (i != null) {
      i.stop();
    }
    judged.clear();
  }
}
