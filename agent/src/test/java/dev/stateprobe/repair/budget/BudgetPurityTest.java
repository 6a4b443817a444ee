package dev.stateprobe.repair.budget;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.stateprobe.testing.Purity;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/** The budget's decision is pure: the build fails when it reaches for I/O, a clock or a logger. */
class BudgetPurityTest {
  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.stateprobe.repair.budget");

  @Test
  void theDecisionDependsOnlyOnTheJdksPureParts() {
    classes()
        .that()
        .haveNameMatching(pattern())
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            "java.lang",
            "java.lang.invoke",
            "java.lang.runtime",
            "java.util",
            "java.util.function",
            "java.util.stream",
            "java.time",
            "java.time.temporal",
            "dev.stateprobe.repair.budget")
        .because("the budget's decision is pure: Leases as read in, a verdict out")
        .check(CLASSES);
  }

  @Test
  void theDecisionReadsNoClock() {
    noClasses()
        .that()
        .haveNameMatching(pattern())
        .should()
        .dependOnClassesThat()
        .haveFullyQualifiedName(Clock.class.getName())
        .orShould()
        .callMethodWhere(Purity.READS_THE_TIME)
        .orShould()
        .callMethod(System.class, "currentTimeMillis")
        .orShould()
        .callMethod(System.class, "nanoTime")
        .check(CLASSES);
  }

  @Test
  void theDecisionClassesAreFound() {
    org.assertj.core.api.Assertions.assertThat(
            CLASSES.stream().filter(c -> c.getName().matches(pattern())).count())
        .isGreaterThanOrEqualTo(6);
  }

  private static String pattern() {
    return "dev\\.stateprobe\\.repair\\.budget\\.(SlotDecision(\\$.*)?|SlotView|Starts)";
  }
}
