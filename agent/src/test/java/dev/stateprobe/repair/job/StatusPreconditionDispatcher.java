package dev.stateprobe.repair.job;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * fabric8's CRUD dispatcher, made to check the resourceVersion precondition of status writes as a
 * real API server does (the mock checks it for ordinary updates only: measured, fabric8 8.0.0).
 * Counts the conflicts it answered, so a test can show that the retry path ran.
 */
final class StatusPreconditionDispatcher extends KubernetesCrudDispatcher {
  private final JsonMapper mapper = JsonMapper.builder().build();
  private final AtomicInteger statusConflicts = new AtomicInteger();

  @Override
  public MockResponse handleUpdate(RecordedRequest request) {
    String path = request.getPath();
    if (path.endsWith("/status")) {
      // getBytes() leaves the body for the real handler; getUtf8Body() would consume it.
      String sent =
          resourceVersion(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
      Map.Entry<AttributeSet, String> current = findResource(getKey(path));
      if (current != null && sent != null && !sent.equals(resourceVersion(current.getValue()))) {
        statusConflicts.incrementAndGet();
        return new MockResponse()
            .setResponseCode(409)
            .setBody(
                "{\"apiVersion\":\"v1\",\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409,\"message\":\"the"
                    + " object has been modified; please apply your changes to the latest version"
                    + " and try again\"}");
      }
    }
    return super.handleUpdate(request);
  }

  int statusConflicts() {
    return statusConflicts.get();
  }

  private String resourceVersion(String json) {
    JsonNode rv = mapper.readTree(json).path("metadata").path("resourceVersion");
    return rv.isMissingNode() || rv.isNull() ? null : rv.asString();
  }
}
