package dev.stateprobe.drift;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.ArchConfiguration;
import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import dev.stateprobe.testing.Purity;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The drift package is a pure function of views and {@code now}: nothing in it may do I/O, read a
 * clock or the time ({@code Instant.now()}, {@code System.currentTimeMillis()}, {@code
 * System.nanoTime()}, {@code Clock.systemUTC()}), log, start threads, or reach into the agent's
 * other packages.
 */
class PurityTest {

  static final DescribedPredicate<JavaClass> IMPURE =
      resideInAnyPackage(
              "java.io..",
              "java.nio..",
              "java.net..",
              "io.vertx..",
              "io.fabric8..",
              "io.micrometer..",
              "org.slf4j..",
              "java.util.logging..")
          .or(belongToAnyOf(System.class, Clock.class, Thread.class))
          .or(
              resideInAPackage("dev.stateprobe..")
                  .and(
                      not(
                          resideInAnyPackage(
                              "dev.stateprobe.view..",
                              "dev.stateprobe.drift..",
                              "dev.stateprobe.policy..")))
                  .as("other dev.stateprobe packages"));

  static final ArchRule PURE =
      noClasses()
          .that()
          .resideInAPackage("dev.stateprobe.drift..")
          .should()
          .dependOnClassesThat(IMPURE)
          .orShould()
          .callMethodWhere(Purity.READS_THE_TIME)
          .because("the drift core must be a pure function of the views and the now passed in");

  @Test
  void driftPackageIsPure() {
    JavaClasses main =
        withoutResolving(
            () ->
                new ClassFileImporter()
                    .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                    .importPackages("dev.stateprobe.drift"));
    // A rule over no classes passes; make sure the production classes were really found.
    Set<String> names = main.stream().map(JavaClass::getSimpleName).collect(Collectors.toSet());
    assertTrue(
        names.containsAll(
            Set.of(
                "Drift",
                "DriftDetector",
                "DriftTracker",
                "TrustGate",
                "Trust",
                "Transition",
                "TrackedDrift",
                "DriftKey",
                "DriftKind")),
        "imported: " + names);
    assertFalse(names.contains("PurityTest"), "test classes must not be checked as production");
    PURE.check(main);
  }

  @Test
  void ruleRejectsEveryForbiddenDependency() {
    JavaClasses canary =
        withoutResolving(() -> new ClassFileImporter().importClasses(ImpureCanary.class));
    EvaluationResult result = PURE.evaluate(canary);
    assertTrue(result.hasViolation());
    List<String> details = result.getFailureReport().getDetails();
    List<String> targets =
        List.of(
            "java.io.File",
            "java.nio.file.Path",
            "java.net.URI",
            "io.vertx.core.Vertx",
            "io.fabric8.kubernetes.api.model.Pod",
            "io.micrometer.core.instrument.MeterRegistry",
            "org.slf4j.Logger",
            "java.util.logging.Logger",
            "java.lang.System",
            "java.time.Clock",
            "java.lang.Thread",
            "dev.stateprobe.metrics.Metrics",
            // README promises these by name: each is a read of the time.
            "java.time.Instant.now()",
            "java.time.LocalDateTime.now()",
            "java.lang.System.currentTimeMillis()",
            "java.lang.System.nanoTime()",
            "java.time.Clock.systemUTC()");
    for (String target : targets) {
      assertTrue(
          details.stream().anyMatch(d -> d.contains("<" + target)),
          "no violation names " + target + " in:\n" + String.join("\n", details));
    }
  }

  @Test
  void ruleAllowsViewsAndTheJavaCore() {
    JavaClasses clean =
        withoutResolving(() -> new ClassFileImporter().importClasses(PureCanary.class));
    EvaluationResult result = PURE.evaluate(clean);
    assertEquals(List.of(), result.getFailureReport().getDetails());
  }

  /**
   * Imports without loading what it refers to from the class path: the rule needs only the names of
   * the targets, and resolving fabric8 and Vert.x classes costs seconds.
   */
  static JavaClasses withoutResolving(Supplier<JavaClasses> importer) {
    ArchConfiguration config = ArchConfiguration.get();
    boolean before = config.resolveMissingDependenciesFromClassPath();
    config.setResolveMissingDependenciesFromClassPath(false);
    try {
      return importer.get();
    } finally {
      config.setResolveMissingDependenciesFromClassPath(before);
    }
  }

  /** Touches every forbidden thing once; lives here so the rule is proven to bite. */
  @SuppressWarnings("unused")
  static final class ImpureCanary {
    Object io() throws Exception {
      return new java.io.File("x");
    }

    Object nio() {
      return java.nio.file.Path.of("x");
    }

    Object net() {
      return java.net.URI.create("http://x");
    }

    Object vertx(io.vertx.core.Vertx v) {
      return v;
    }

    Object fabric8(io.fabric8.kubernetes.api.model.Pod p) {
      return p;
    }

    Object micrometer(io.micrometer.core.instrument.MeterRegistry r) {
      return r;
    }

    Object slf4j() {
      return org.slf4j.LoggerFactory.getLogger("x");
    }

    Object jul() {
      return java.util.logging.Logger.getLogger("x");
    }

    long systemTime() {
      return System.currentTimeMillis();
    }

    long nanoTime() {
      return System.nanoTime();
    }

    Object instantNow() {
      return java.time.Instant.now();
    }

    Object localNow() {
      return java.time.LocalDateTime.now();
    }

    Object clock() {
      return Clock.systemUTC().instant();
    }

    void sleep() throws InterruptedException {
      Thread.sleep(1);
    }

    Object metrics(dev.stateprobe.metrics.Metrics m) {
      return m;
    }
  }

  /** What the drift core may use. */
  @SuppressWarnings("unused")
  static final class PureCanary {
    Object ok(dev.stateprobe.view.PodRecord p, java.time.Instant now) {
      return List.of(p.ref(), now.plus(java.time.Duration.ofSeconds(1)), new DriftDetector());
    }
  }
}
