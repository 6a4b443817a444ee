package dev.stateprobe.fleet;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/** The brake's decisions are pure: the build fails when this package reaches for I/O or a clock. */
class FleetPurityTest {
  private static final ArchRule ONLY_PURE_DEPENDENCIES =
      classes()
          .that()
          .resideInAPackage("dev.stateprobe.fleet..")
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
              "dev.stateprobe.fleet..")
          .because("the storm decision and the brake's reading are functions of their inputs");

  @Test
  void theFleetPackageIsPure() {
    JavaClasses main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.stateprobe.fleet");
    ONLY_PURE_DEPENDENCIES.check(main);
  }
}
