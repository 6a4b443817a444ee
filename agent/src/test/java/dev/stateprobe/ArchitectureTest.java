package dev.stateprobe;

import static com.tngtech.archunit.core.domain.Dependency.Predicates.dependencyTarget;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.lang.conditions.ArchConditions.onlyHaveDependenciesWhere;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noFields;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * House rules that no reviewer should have to remember: no global mutable state, one place that
 * names metrics, one place that exits the process, dependencies that point one way, production code
 * that never reaches into the simulator. (The pure packages have their own rules: {@code
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
          .and()
          .doNotHaveFullyQualifiedName("dev.stateprobe.demo.DemoMain")
          .should()
          .callMethod(System.class, "exit", int.class)
          .because(
              "modes return exit codes; only the entry points (the agent jar's and the demo"
                  + " jar's) end the process");

  /**
   * Each top-level package under {@code root} is one slice, and the root package's own classes
   * ({@code Main}) are one more, so that a package reaching back into {@code Main} is a cycle too.
   */
  static ArchRule topLevelPackagesFreeOfCycles(String root) {
    return SlicesRuleDefinition.slices()
        .assignedFrom(
            new SliceAssignment() {
              @Override
              public SliceIdentifier getIdentifierOf(JavaClass c) {
                String pkg = c.getPackageName();
                if (pkg.equals(root)) {
                  return SliceIdentifier.of("(root)");
                }
                if (!pkg.startsWith(root + ".")) {
                  return SliceIdentifier.ignore();
                }
                return SliceIdentifier.of(pkg.substring(root.length() + 1).split("\\.")[0]);
              }

              @Override
              public String getDescription() {
                return "the top-level packages of " + root + " and its root package";
              }
            })
        .should()
        .beFreeOfCycles()
        .because(
            "each dependency between packages points one way, so a package can be read, tested"
                + " and moved without the ones that use it");
  }

  static final ArchRule NO_PACKAGE_CYCLES = topLevelPackagesFreeOfCycles("dev.stateprobe");

  private static final String SIM = "dev.stateprobe.sim..";
  private static final String DEMO = "dev.stateprobe.demo..";

  static final ArchRule PRODUCTION_NEVER_USES_THE_SIMULATOR =
      classes()
          .that()
          .resideOutsideOfPackages(SIM, DEMO)
          .should(onlyHaveDependenciesWhere(dependencyTarget(resideOutsideOfPackages(SIM, DEMO))))
          .because(
              "the agent runs against a real node: the simulator and the demo sit on top of it,"
                  + " and the agent jar (the image's) carries neither");

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
  void noPackageCycles() {
    NO_PACKAGE_CYCLES.check(main);
  }

  @Test
  void productionCodeNeverReachesIntoTheSimulatorOrTheDemo() {
    PRODUCTION_NEVER_USES_THE_SIMULATOR.check(main);
  }

  @Test
  void theCycleRuleFindsACycle() {
    // java.lang and java.util use each other: the same rule over java's packages must see it.
    JavaClasses cyclic =
        new ClassFileImporter().importClasses(String.class, java.util.Locale.class);
    assertThat(topLevelPackagesFreeOfCycles("java").evaluate(cyclic).hasViolation()).isTrue();
  }

  @Test
  void theRulesCanFail() {
    JavaClasses bad = new ClassFileImporter().importClasses(BadCitizen.class);
    assertThat(NO_STATIC_MUTABLE_FIELDS.evaluate(bad).hasViolation()).isTrue();
    assertThat(METRICS_ARE_NAMED_IN_ONE_PLACE.evaluate(bad).hasViolation()).isTrue();
    assertThat(ONLY_MAIN_EXITS.evaluate(bad).hasViolation()).isTrue();
    assertThat(PRODUCTION_NEVER_USES_THE_SIMULATOR.evaluate(bad).hasViolation()).isTrue();
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

    Class<?> simulate() {
      return dev.stateprobe.sim.FakeKubelet.class;
    }
  }
}
