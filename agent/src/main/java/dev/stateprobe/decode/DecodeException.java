package dev.stateprobe.decode;

/** The bytes are not the JSON shape expected; the message says where. */
public final class DecodeException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean tooLarge;

  public DecodeException(String message) {
    this(message, null, false);
  }

  public DecodeException(String message, Throwable cause) {
    this(message, cause, false);
  }

  private DecodeException(String message, Throwable cause, boolean tooLarge) {
    super(message, cause);
    this.tooLarge = tooLarge;
  }

  /** The list holds more items than the caller can afford to keep: too large, not malformed. */
  public static DecodeException tooLarge(String message) {
    return new DecodeException(message, null, true);
  }

  public boolean tooLarge() {
    return tooLarge;
  }
}
