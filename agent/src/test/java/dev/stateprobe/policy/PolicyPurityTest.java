package dev.stateprobe.policy;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import dev.stateprobe.testing.Purity;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The policy package is pure (the tracker and the planner read it): only the Java core and
 * Jackson's streaming parser; no I/O, clock, logger, framework, and no other package of the agent
 * (the drift core depends on it, so it must not depend back).
 */
class PolicyPurityTest {

  private static final ArchRule ONLY_PURE_DEPENDENCIES =
      classes()
          .that()
          .resideInAPackage("dev.stateprobe.policy..")
          .should()
          .onlyDependOnClassesThat()
          .resideInAnyPackage(
              "java.lang",
              "java.lang.invoke",
              "java.lang.runtime",
              "java.util",
              "java.util.function",
              "java.util.regex",
              "java.util.stream",
              "java.time",
              "java.math",
              "java.io", // Serializable and AutoCloseable's IOException of the parser, no I/O
              "tools.jackson.core..",
              "dev.stateprobe.policy..")
          .because("the policy package is pure: inputs in, settings out");

  private static final ArchRule NO_TIME_OR_FILES =
      noClasses()
          .that()
          .resideInAPackage("dev.stateprobe.policy..")
          .should()
          .callMethodWhere(Purity.READS_THE_TIME)
          .orShould()
          .dependOnClassesThat()
          .haveNameMatching("java\\.io\\.(File|.*Stream|.*Reader|.*Writer).*");

  @Test
  void policyPackageIsPure() {
    JavaClasses main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.stateprobe.policy");
    Set<String> names = main.stream().map(JavaClass::getSimpleName).collect(Collectors.toSet());
    assertTrue(
        names.containsAll(Set.of("PolicyDecoder", "PolicySet", "PodPolicy", "PodPolicies")),
        "imported: " + names);
    ONLY_PURE_DEPENDENCIES.check(main);
    NO_TIME_OR_FILES.check(main);
  }
}
