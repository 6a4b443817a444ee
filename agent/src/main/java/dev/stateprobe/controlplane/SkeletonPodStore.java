package dev.stateprobe.controlplane;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The informer's own cache, cut to what fabric8 needs to drive its events: identity and
 * resourceVersion (~150 bytes a pod instead of ~45 KB). The agent keeps its {@code PodRecord}s
 * itself; nothing reads full objects out of the informer's store.
 *
 * <p>What still works, and why: the informer compares resourceVersions to tell an update from a
 * repeat (kept); a watch DELETED carries the full object from the server (unaffected); a re-list
 * removes keys it no longer sees and reports them with the stored value, a skeleton that still
 * carries the UID the agent keys its records by. Keys are UIDs, so a pod recreated under the same
 * name is a delete plus an add, never an update across two UIDs.
 *
 * <p>What does not: anything that reads objects from the store ({@code getStore().list()}, an event
 * handler added after start, whose initial adds replay the store) sees skeletons.
 */
final class SkeletonPodStore implements ItemStore<Pod> {

  private record Skeleton(String namespace, String name, String uid, String resourceVersion) {}

  private final ConcurrentHashMap<String, Skeleton> items = new ConcurrentHashMap<>();

  @Override
  public String getKey(Pod pod) {
    String uid = pod.getMetadata().getUid();
    // The API server always sets a UID; the fallback only keeps a malformed object addressable.
    return uid != null ? uid : pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
  }

  @Override
  public Pod put(String key, Pod pod) {
    var m = pod.getMetadata();
    return restore(
        items.put(
            key, new Skeleton(m.getNamespace(), m.getName(), m.getUid(), m.getResourceVersion())));
  }

  @Override
  public Pod remove(String key) {
    return restore(items.remove(key));
  }

  @Override
  public Stream<String> keySet() {
    return items.keySet().stream();
  }

  @Override
  public Stream<Pod> values() {
    return items.values().stream().map(SkeletonPodStore::restore);
  }

  @Override
  public int size() {
    return items.size();
  }

  @Override
  public Pod get(String key) {
    return restore(items.get(key));
  }

  @Override
  public boolean isFullState() {
    // Tells the informer not to treat stored values as complete objects (it then also sends adds
    // of the initial list at once instead of deferring them until the list is done).
    return false;
  }

  private static Pod restore(Skeleton s) {
    if (s == null) {
      return null;
    }
    return new PodBuilder()
        .withApiVersion("v1")
        .withKind("Pod")
        .withNewMetadata()
        .withNamespace(s.namespace())
        .withName(s.name())
        .withUid(s.uid())
        .withResourceVersion(s.resourceVersion())
        .endMetadata()
        .build();
  }
}
