package dev.stateprobe.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SimApiRequestTest {

  private static SimApiRequest parse(String method, String uri) {
    return SimApiRequest.parse(method, uri, false, 200);
  }

  @Test
  void aFieldSelectedWatchOfAllPodsIsAWatchOfPods() {
    SimApiRequest r =
        parse(
            "GET",
            "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&resourceVersion=7&watch=true");

    assertThat(r.verb()).isEqualTo("watch");
    assertThat(r.apiGroup()).isEmpty();
    assertThat(r.resource()).isEqualTo("pods");
    assertThat(r.namespace()).isNull();
    assertThat(r.name()).isNull();
    assertThat(r.path()).isEqualTo("/api/v1/pods");
    assertThat(r.queryParameter("fieldSelector")).isEqualTo("spec.nodeName=node-a");
    assertThat(r.queryParameter("resourceVersion")).isEqualTo("7");
    assertThat(r.isPodCollection("watch")).isTrue();
  }

  @Test
  void aListOrWatchOfOneNameByFieldSelectorIsARequestForThatName() {
    SimApiRequest watch =
        parse(
            "GET",
            "/apis/coordination.k8s.io/v1/namespaces/ns/leases"
                + "?watch=true&fieldSelector=metadata.name%3Dbrake&resourceVersion=9");
    SimApiRequest list =
        parse(
            "GET",
            "/apis/coordination.k8s.io/v1/namespaces/ns/leases?fieldSelector=metadata.name==brake");
    SimApiRequest cpol =
        parse("GET", "/apis/stateprobe.dev/v1alpha1/consistencypolicies?limit=100");

    assertThat(watch)
        .extracting(
            SimApiRequest::verb,
            SimApiRequest::apiGroup,
            SimApiRequest::resource,
            SimApiRequest::namespace,
            SimApiRequest::name)
        .containsExactly("watch", "coordination.k8s.io", "leases", "ns", "brake");
    assertThat(list.verb()).isEqualTo("list");
    assertThat(list.name()).isEqualTo("brake");
    assertThat(cpol)
        .extracting(
            SimApiRequest::verb,
            SimApiRequest::apiGroup,
            SimApiRequest::resource,
            SimApiRequest::namespace,
            SimApiRequest::name)
        .containsExactly("list", "stateprobe.dev", "consistencypolicies", null, null);
  }

  @Test
  void subresourcesAndNamespacesResolveAsKubeApiserverDoes() {
    assertThat(parse("PUT", "/api/v1/namespaces/ns/pods/p/status"))
        .extracting(
            SimApiRequest::verb,
            SimApiRequest::resource,
            SimApiRequest::subresource,
            SimApiRequest::namespace,
            SimApiRequest::name)
        .containsExactly("update", "pods", "status", "ns", "p");
    assertThat(parse("GET", "/api/v1/nodes/n1/proxy/pods"))
        .extracting(
            SimApiRequest::verb,
            SimApiRequest::resource,
            SimApiRequest::subresource,
            SimApiRequest::name)
        .containsExactly("get", "nodes", "proxy", "n1");
    assertThat(parse("GET", "/api/v1/namespaces/ns"))
        .extracting(
            SimApiRequest::verb,
            SimApiRequest::resource,
            SimApiRequest::namespace,
            SimApiRequest::name)
        .containsExactly("get", "namespaces", null, "ns");
    assertThat(parse("PUT", "/api/v1/namespaces/ns/finalize"))
        .extracting(SimApiRequest::resource, SimApiRequest::subresource, SimApiRequest::name)
        .containsExactly("namespaces", "finalize", "ns");
    assertThat(parse("POST", "/apis/stateprobe.dev/v1alpha1/consistencyrepairjobs"))
        .extracting(SimApiRequest::verb, SimApiRequest::apiGroup, SimApiRequest::resource)
        .containsExactly("create", "stateprobe.dev", "consistencyrepairjobs");
    assertThat(parse("DELETE", "/apis/events.k8s.io/v1/namespaces/ns/events"))
        .extracting(SimApiRequest::verb, SimApiRequest::apiGroup, SimApiRequest::namespace)
        .containsExactly("deletecollection", "events.k8s.io", "ns");
    assertThat(parse("PATCH", "/api/v1/namespaces/ns/events/e1").verb()).isEqualTo("patch");
  }

  @Test
  void nonResourcePathsKeepTheMethodAsVerb() {
    assertThat(parse("GET", "/version"))
        .extracting(SimApiRequest::verb, SimApiRequest::resource, SimApiRequest::apiGroup)
        .containsExactly("get", null, null);
    assertThat(parse("GET", "/apis/apps/v1").resource()).isNull();
  }
}
