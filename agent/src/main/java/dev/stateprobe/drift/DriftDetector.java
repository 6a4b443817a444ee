package dev.stateprobe.drift;

import dev.stateprobe.drift.Drift.Source;
import dev.stateprobe.view.ContainerState;
import dev.stateprobe.view.ContainerStatusRecord;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import dev.stateprobe.view.RuntimeView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Compares the three views of one node's pods and lists every disagreement seen right now. A pure
 * function: the same views and {@code now} give the same list, and nothing is remembered between
 * calls (confirmation over time is {@link DriftTracker}'s job; whether the views may be believed at
 * all is {@link TrustGate}'s).
 *
 * <p>The views are maps whose iteration order is unspecified; every loop here runs over pods sorted
 * by reference, so when two findings share a key the one kept is always the same.
 *
 * <p>The detector is total: it never throws on consistent-but-odd views (an empty kubelet view, two
 * kubelet pods with one name, a mirror pod without its static pod). Whether such a view is
 * trustworthy is decided before it is called.
 *
 * <p><b>Stray UIDs.</b> Every UID that the kubelet lists or the runtime runs, and that the API
 * server does not have, is a <i>stray</i>; static pods (which run under their config hash and pair
 * with a mirror pod) are not. Each stray is accounted for by exactly one drift, with one stated
 * exception:
 *
 * <ol>
 *   <li>The API server has a pod of the stray's namespace/name under another UID, and the kubelet
 *       does not list that UID: the kubelet missed a recreation. One {@code UidMismatch} about the
 *       API's pod accounts for one stray kubelet copy of the name (a live one before a finished
 *       one, then the first by UID), whatever the runtime does with it; the API pod is then not
 *       also {@code UnknownToKubelet}.
 *   <li>Otherwise a stray the kubelet lists live (not Succeeded/Failed, deleting or not) is an
 *       {@code OrphanedPod} seen in the kubelet, even when the kubelet also lists the API's UID for
 *       that name (the pod was recreated and the kubelet still holds the old copy beside the new).
 *       A {@code UidMismatch} never hides an orphan: a second old copy is judged by this rule.
 *   <li>Otherwise a stray the runtime runs is an {@code OrphanedPod} seen in the runtime: either
 *       the kubelet does not list it (any sandbox counts), or the kubelet lists it finished but the
 *       runtime still runs containers of it. The latter is an orphan rather than a {@code
 *       TerminalButRunning}: that kind is about a pod the API server has, and here nobody owns the
 *       containers that run; stopping its sandbox is the same repair as for any orphan.
 *   <li>The exception: a stray the kubelet lists finished and the runtime runs no container of (at
 *       most a sandbox) is no drift. The kubelet has done its part and forgets the copy on its own.
 * </ol>
 *
 * {@code StrayUidTableTest} checks this over every combination of the views for two UIDs of one
 * name.
 */
public final class DriftDetector {

  // PodRef's order (namespace, name, uid), without making two PodRefs per comparison: at 5000
  // pods that was half of what a cycle allocated.
  private static final Comparator<PodRecord> BY_REF =
      (a, b) -> compareRefs(a.namespace(), a.name(), a.uid(), b.namespace(), b.name(), b.uid());
  private static final Comparator<RuntimePod> RUNTIME_BY_REF =
      (a, b) -> compareRefs(a.namespace(), a.name(), a.uid(), b.namespace(), b.name(), b.uid());

  /** Where a pod is, by name: the identity that survives a recreation, unlike the UID. */
  private record Name(String namespace, String name) {
    static Name of(PodRecord p) {
      return new Name(p.namespace(), p.name());
    }
  }

  /**
   * Every drift between the views, one per {@link Drift#key()}, sorted by key.
   *
   * @param api the pods the API server binds to this node
   * @param kubelet the pods the kubelet lists
   * @param runtime the pods with running containers, when the kubelet serves that view
   * @param now the instant the cycle runs at; decides whether a grace period has ended
   */
  public List<Drift> detect(
      ControlPlaneView api, KubeletView kubelet, Optional<RuntimeView> runtime, Instant now) {
    Objects.requireNonNull(api, "api");
    Objects.requireNonNull(kubelet, "kubelet");
    Objects.requireNonNull(runtime, "runtime");
    Objects.requireNonNull(now, "now");

    Map<String, PodRecord> apiByUid = api.podsByUid();
    List<PodRecord> apiPods = sorted(apiByUid.values());
    Set<String> apiMirrorKeys = new HashSet<>();
    for (PodRecord a : apiPods) {
      if (a.isMirror()) {
        apiMirrorKeys.add(a.configMirror());
      }
    }

    Map<String, PodRecord> kubeletByUid = kubelet.podsByUid();
    List<PodRecord> kubeletPods = sorted(kubeletByUid.values());
    Set<String> kubeletStaticKeys = new HashSet<>();
    for (PodRecord k : kubeletPods) {
      if (k.isStatic()) {
        kubeletStaticKeys.add(k.staticKey());
      }
    }

    Map<DriftKey, Drift> found = new TreeMap<>();
    // The API pod each recreated name stands for, by the UID of the one stray kubelet copy that
    // its UidMismatch accounts for; every other stray copy is judged on its own.
    Map<String, PodRecord> mismatchByStrayUid = new HashMap<>();
    Set<String> apiUidsWithMismatch = new HashSet<>();
    Map<Name, PodRecord> strayByName = null;
    for (PodRecord k : kubeletPods) {
      if (k.isStatic() || apiByUid.containsKey(k.uid())) {
        continue;
      }
      if (strayByName == null) {
        strayByName = new HashMap<>();
      }
      // A live copy stands for the name before a finished one: the kubelet runs it in place of
      // the API's pod. Among equals, the first by reference (the loop's order).
      strayByName.merge(Name.of(k), k, (x, y) -> x.terminal() && !y.terminal() ? y : x);
    }
    if (strayByName != null) {
      Map<Name, PodRecord> apiNonMirrorByName = byName(apiPods);
      for (Map.Entry<Name, PodRecord> e : strayByName.entrySet()) {
        PodRecord sameName = apiNonMirrorByName.get(e.getKey());
        if (sameName != null && !kubeletByUid.containsKey(sameName.uid())) {
          mismatchByStrayUid.put(e.getValue().uid(), sameName);
          apiUidsWithMismatch.add(sameName.uid());
        }
      }
    }

    for (PodRecord k : kubeletPods) {
      if (k.isStatic()) {
        // Static pods run under their config hash; the API side of one is a mirror pod with a
        // UID of its own, so only the mirror annotation pairs them.
        if (!apiMirrorKeys.contains(k.staticKey()) && !k.deleting()) {
          add(found, new Drift.MissingMirrorPod(k.ref()));
        }
        continue;
      }
      PodRecord a = apiByUid.get(k.uid());
      if (a != null) {
        if (graceOver(a, now)) {
          // A terminal kubelet copy means the kubelet has finished its part; a pod held after
          // that only by a finalizer is someone else's business (unless the runtime still runs
          // it: the runtime rule below says so).
          if (!k.terminal()) {
            add(found, new Drift.StuckTerminating(a.ref(), a.deletionTimestamp(), Source.KUBELET));
          }
        } else {
          if (!sameContent(a, k)) {
            add(found, new Drift.StaleKubeletView(a.ref(), differingFields(a, k)));
          }
        }
        continue;
      }
      PodRecord recreated = mismatchByStrayUid.get(k.uid());
      if (recreated != null) {
        // The kubelet missed a recreation: one drift about the API's current pod, not an orphan
        // plus a pod the kubelet does not know.
        add(found, new Drift.UidMismatch(recreated.ref(), k.uid()));
      } else if (!k.terminal()) {
        add(found, new Drift.OrphanedPod(k.ref(), Source.KUBELET));
      }
      // A finished copy is the runtime rule's to judge: harmless unless something still runs.
    }

    for (PodRecord a : apiPods) {
      if (a.isMirror() || kubeletByUid.containsKey(a.uid())) {
        continue;
      }
      // A terminal pod has nothing left to run, and a deleting one is judged by the runtime;
      // an absent kubelet copy of either is normal housekeeping.
      if (apiUidsWithMismatch.contains(a.uid()) || a.terminal() || a.deleting()) {
        continue;
      }
      add(found, new Drift.UnknownToKubelet(a.ref()));
    }

    runtime.ifPresent(
        rt -> {
          for (RuntimePod p : sortedRuntime(rt.podsByUid().values())) {
            PodRecord a = apiByUid.get(p.uid());
            if (a != null) {
              if (a.terminal() && !p.runningContainers().isEmpty()) {
                add(found, new Drift.TerminalButRunning(a.ref(), a.phase()));
              }
              // When the kubelet still lists a live copy, the kubelet-side StuckTerminating
              // already says so; one finding per pod.
              PodRecord k = kubeletByUid.get(p.uid());
              if (graceOver(a, now) && (k == null || k.terminal())) {
                add(
                    found,
                    new Drift.StuckTerminating(a.ref(), a.deletionTimestamp(), Source.RUNTIME));
              }
            } else if (!kubeletStaticKeys.contains(p.uid())
                && !apiMirrorKeys.contains(p.uid())
                && !mismatchByStrayUid.containsKey(p.uid())) {
              // Not a static pod (those run under their config hash), and not the old copy a
              // UidMismatch already stands for. A live kubelet copy was reported above; a
              // finished one that still runs containers is an orphan all the same: nobody owns
              // it and it runs (a sandbox alone is the kubelet's ordinary clean-up).
              PodRecord k = kubeletByUid.get(p.uid());
              if (k == null || (k.terminal() && !p.runningContainers().isEmpty())) {
                add(found, new Drift.OrphanedPod(p.ref(), Source.RUNTIME));
              }
            }
          }
          for (PodRecord a : apiPods) {
            if (a.terminal() || a.deleting()) {
              continue;
            }
            boolean listed =
                a.isMirror()
                    ? kubeletStaticKeys.contains(a.configMirror())
                    : kubeletByUid.containsKey(a.uid());
            if (!listed) {
              continue;
            }
            String runtimeUid = a.isMirror() ? a.configMirror() : a.uid();
            RuntimePod p = rt.podsByUid().get(runtimeUid);
            Set<String> running = p == null ? Set.of() : p.runningContainers();
            List<String> missing = null;
            for (ContainerStatusRecord c : a.containers()) {
              if (c.state() == ContainerState.RUNNING && !running.contains(c.name())) {
                if (missing == null) {
                  missing = new ArrayList<>();
                }
                missing.add(c.name());
              }
            }
            if (missing != null) {
              add(found, new Drift.ContainerNotRunning(a.ref(), missing));
            }
          }
        });

    return List.copyOf(found.values());
  }

  /** No field differs: {@link #differingFields} would be empty (asked first, so that it is). */
  static boolean sameContent(PodRecord api, PodRecord kubelet) {
    return api.labelsHash() == kubelet.labelsHash()
        && api.annotationsHash() == kubelet.annotationsHash()
        && api.specHash() == kubelet.specHash()
        && api.statusHash() == kubelet.statusHash()
        && Objects.equals(api.deletionTimestamp(), kubelet.deletionTimestamp());
  }

  /**
   * The fields in which the kubelet's copy lags the API server's, in a fixed order. Never the
   * resourceVersion: the kubelet keeps the one of the copy it first saw.
   */
  static List<String> differingFields(PodRecord api, PodRecord kubelet) {
    List<String> fields = new ArrayList<>(5);
    if (!Objects.equals(api.deletionTimestamp(), kubelet.deletionTimestamp())) {
      fields.add("metadata.deletionTimestamp");
    }
    if (api.labelsHash() != kubelet.labelsHash()) {
      fields.add("metadata.labels");
    }
    if (api.annotationsHash() != kubelet.annotationsHash()) {
      fields.add("metadata.annotations");
    }
    if (api.specHash() != kubelet.specHash()) {
      fields.add("spec");
    }
    if (api.statusHash() != kubelet.statusHash()) {
      fields.add("status");
    }
    return fields;
  }

  /** Deleting, and the deletionTimestamp (request time + grace) lies in the past. */
  private static boolean graceOver(PodRecord a, Instant now) {
    return a.deleting() && now.isAfter(a.deletionTimestamp());
  }

  /** Keeps the first finding for a key: loops run in a fixed order, so the choice is stable. */
  private static void add(Map<DriftKey, Drift> found, Drift d) {
    found.putIfAbsent(d.key(), d);
  }

  /**
   * A real API server has one object per name; should a view ever hold two, the first by UID stands
   * for the name, so the answer does not depend on map order.
   */
  private static Map<Name, PodRecord> byName(List<PodRecord> apiPods) {
    Map<Name, PodRecord> out = new HashMap<>();
    for (PodRecord a : apiPods) {
      if (!a.isMirror()) {
        out.merge(Name.of(a), a, (x, y) -> x.uid().compareTo(y.uid()) <= 0 ? x : y);
      }
    }
    return out;
  }

  private static int compareRefs(
      String namespaceA, String nameA, String uidA, String namespaceB, String nameB, String uidB) {
    int c = namespaceA.compareTo(namespaceB);
    if (c != 0) {
      return c;
    }
    c = nameA.compareTo(nameB);
    return c != 0 ? c : uidA.compareTo(uidB);
  }

  private static List<PodRecord> sorted(Collection<PodRecord> pods) {
    List<PodRecord> list = new ArrayList<>(pods);
    list.sort(BY_REF);
    return list;
  }

  private static List<RuntimePod> sortedRuntime(Collection<RuntimePod> pods) {
    List<RuntimePod> list = new ArrayList<>(pods);
    list.sort(RUNTIME_BY_REF);
    return list;
  }
}
