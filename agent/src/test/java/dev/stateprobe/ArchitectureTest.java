package dev.stateprobe;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noFields;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * House rules that no reviewer should have to remember: no global mutable state, one place that
 * names metrics, one place that exits the process. (The pure packages have their own rules: {@code
 * drift.PurityTest}, {@code repair.planner.PlannerPurityTest}.)
 */
class ArchitectureTest {
  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.stateprobe");
    assertThat(main.stream().map(c -> c.getName()))
        .contains(
            "dev.stateprobe.Main", "dev.stateprobe.metrics.Metrics", "dev.stateprobe.agent.Agent");
  }

  static final ArchRule NO_STATIC_MUTABLE_FIELDS =
      noFields()
          .that()
          .areStatic()
          .and()
          .areDeclaredInClassesThat()
          .resideInAPackage("dev.stateprobe..")
          .should()
          .notBeFinal()
          .because("no global mutable state: everything stateful is built in Main and passed in");

  static final ArchRule METRICS_ARE_NAMED_IN_ONE_PLACE =
      noClasses()
          .that()
          .resideOutsideOfPackage("dev.stateprobe.metrics..")
          .should()
          .callMethodWhere(
              com.tngtech.archunit.core.domain.JavaCall.Predicates.target(
                  com.tngtech.archunit.core.domain.properties.HasName.Predicates.nameMatching(
                          "builder")
                      .and(
                          com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With
                              .owner(
                                  com.tngtech.archunit.core.domain.JavaClass.Predicates
                                      .resideInAPackage("io.micrometer.core.instrument..")))))
          .because("every metric name and tag is defined in dev.stateprobe.metrics.Metrics");

  static final ArchRule ONLY_MAIN_EXITS =
      noClasses()
          .that()
          .doNotHaveFullyQualifiedName("dev.stateprobe.Main")
          .should()
          .callMethod(System.class, "exit", int.class)
          .because("modes return exit codes; only Main ends the process");

  @Test
  void noClassKeepsStaticMutableState() {
    NO_STATIC_MUTABLE_FIELDS.check(main);
  }

  @Test
  void onlyTheMetricsPackageBuildsMeters() {
    METRICS_ARE_NAMED_IN_ONE_PLACE.check(main);
  }

  @Test
  void onlyMainCallsSystemExit() {
    ONLY_MAIN_EXITS.check(main);
  }

  @Test
  void theRulesCanFail() {
    JavaClasses bad = new ClassFileImporter().importClasses(BadCitizen.class);
    assertThat(NO_STATIC_MUTABLE_FIELDS.evaluate(bad).hasViolation()).isTrue();
    assertThat(METRICS_ARE_NAMED_IN_ONE_PLACE.evaluate(bad).hasViolation()).isTrue();
    assertThat(ONLY_MAIN_EXITS.evaluate(bad).hasViolation()).isTrue();
  }

  /** Breaks every rule once, so the rules are known to bite. */
  @SuppressWarnings("unused")
  static final class BadCitizen {
    private static int counter;

    void meter(io.micrometer.core.instrument.MeterRegistry r) {
      io.micrometer.core.instrument.Counter.builder("x").register(r);
    }

    void quit() {
      System.exit(counter);
    }
  }
}
