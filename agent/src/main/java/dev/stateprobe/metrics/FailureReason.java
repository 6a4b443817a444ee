package dev.stateprobe.metrics;

/**
 * Why a kubelet request failed; the {@code reason} tag of the failure counter (bounded). Named
 * here, with the metric it tags, so the kubelet clients depend on metrics and never the other way.
 */
public enum FailureReason {
  TIMEOUT("timeout"),
  CONNECT("connect"),
  TLS("tls"),
  HTTP_401("http_401"),
  HTTP_403("http_403"),
  HTTP_404("http_404"),
  HTTP_4XX("http_4xx"),
  HTTP_5XX("http_5xx"),
  DECODE("decode"),
  TOO_LARGE("too_large"),
  /** The token file could not be read. */
  TOKEN("token");

  private final String tag;

  FailureReason(String tag) {
    this.tag = tag;
  }

  public String tag() {
    return tag;
  }

  /** The reason for an HTTP status that is not a success. */
  public static FailureReason ofStatus(int status) {
    if (status == 401) {
      return HTTP_401;
    }
    if (status == 403) {
      return HTTP_403;
    }
    if (status == 404) {
      return HTTP_404;
    }
    return status >= 500 ? HTTP_5XX : HTTP_4XX;
  }
}
