package dev.stateprobe.testing;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import java.time.Clock;
import java.time.InstantSource;

/** What the purity tests of the pure packages (drift, repair planner) forbid beyond I/O. */
public final class Purity {
  private Purity() {}

  /**
   * Reading the time: {@code Instant.now()} and every other {@code now()} of java.time (each reads
   * the system clock), anything of a {@link Clock} or an {@link InstantSource}, and {@code
   * System.currentTimeMillis()}/{@code nanoTime()}. Time comes in as an argument.
   */
  public static final DescribedPredicate<JavaMethodCall> READS_THE_TIME =
      new DescribedPredicate<>(
          "read the time (java.time's now(), a Clock, System.currentTimeMillis/nanoTime)") {
        @Override
        public boolean test(JavaMethodCall call) {
          String owner = call.getTargetOwner().getName();
          String name = call.getName();
          return (name.equals("now") && owner.startsWith("java.time."))
              || owner.equals(Clock.class.getName())
              || owner.equals(InstantSource.class.getName())
              || (owner.equals(System.class.getName())
                  && (name.equals("currentTimeMillis") || name.equals("nanoTime")));
        }
      };
}
