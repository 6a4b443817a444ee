package dev.stateprobe.repair.planner;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import dev.stateprobe.testing.Purity;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The planner is a pure function: the build fails when it reaches for I/O, a clock or a logger. */
class PlannerPurityTest {

  private static final String PLANNER = "dev.stateprobe.repair.planner..";

  /** Only these may be used by the planner; anything else (I/O, frameworks) breaks the rule. */
  private static final ArchRule ONLY_PURE_DEPENDENCIES =
      classes()
          .that()
          .resideInAPackage(PLANNER)
          .should()
          .onlyDependOnClassesThat()
          .resideInAnyPackage(
              "java.lang",
              "java.lang.invoke", // records' equals/hashCode/toString and string concatenation
              "java.lang.runtime",
              "java.util",
              "java.util.function",
              "java.util.stream",
              "java.time",
              "dev.stateprobe.repair.planner..",
              "dev.stateprobe.drift..",
              "dev.stateprobe.view..",
              "dev.stateprobe.policy..",
              "dev.stateprobe.config")
          .because("the planner is pure: inputs in, decisions out");

  /** Inside the allowed packages, the parts that are not pure. */
  private static final ArchRule NO_CLOCK_THREADS_OR_CONFIG_IO =
      noClasses()
          .that()
          .resideInAPackage(PLANNER)
          .should()
          .dependOnClassesThat()
          .haveFullyQualifiedName(Clock.class.getName())
          .orShould()
          .callMethodWhere(Purity.READS_THE_TIME)
          .orShould()
          .callMethod(System.class, "currentTimeMillis")
          .orShould()
          .callMethod(System.class, "nanoTime")
          .orShould()
          .callMethod(System.class, "getenv", String.class)
          .orShould()
          .dependOnClassesThat()
          .haveFullyQualifiedName(Thread.class.getName())
          .orShould()
          .dependOnClassesThat()
          .haveFullyQualifiedName(ProcessBuilder.class.getName())
          .orShould()
          .dependOnClassesThat()
          .haveFullyQualifiedName("dev.stateprobe.config.ConfigLoader")
          .because("time comes in through PlanInput.now and step(now)");

  @Test
  void plannerDependsOnlyOnPureTypes() {
    JavaClasses main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.stateprobe.repair.planner");
    assertTrue(main.size() >= 10, "planner classes were not found: " + main.size());
    ONLY_PURE_DEPENDENCIES.check(main);
    NO_CLOCK_THREADS_OR_CONFIG_IO.check(main);
  }

  @Test
  void theRulesCatchAnImpureClass() {
    JavaClasses impure = new ClassFileImporter().importClasses(ImpureExample.class);
    assertTrue(ONLY_PURE_DEPENDENCIES.evaluate(impure).hasViolation(), "file I/O must violate");
    List<String> details =
        NO_CLOCK_THREADS_OR_CONFIG_IO.evaluate(impure).getFailureReport().getDetails();
    // Each read of the time README names, one by one.
    for (String call :
        List.of(
            "java.time.Instant.now()",
            "java.lang.System.currentTimeMillis()",
            "java.lang.System.nanoTime()",
            "java.time.Clock.systemUTC()")) {
      assertTrue(
          details.stream().anyMatch(d -> d.contains("<" + call + ">")),
          call + " must violate; violations:\n" + String.join("\n", details));
    }
  }

  /** Lives in the planner package (as test code) only to prove the rules can fail. */
  static final class ImpureExample {
    Instant stamp() throws java.io.IOException {
      java.nio.file.Files.readString(java.nio.file.Path.of("/etc/hostname"));
      return Instant.now();
    }

    long millis() {
      return System.currentTimeMillis();
    }

    long nanos() {
      return System.nanoTime();
    }

    Instant clock() {
      return Clock.systemUTC().instant();
    }
  }
}
