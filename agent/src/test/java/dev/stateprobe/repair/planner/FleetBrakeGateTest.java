package dev.stateprobe.repair.planner;

import static dev.stateprobe.repair.planner.Plans.auto;
import static dev.stateprobe.repair.planner.Plans.input;
import static dev.stateprobe.repair.planner.Plans.option;
import static dev.stateprobe.repair.planner.Plans.orphan;
import static dev.stateprobe.repair.planner.Plans.render;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.repair.planner.RepairOption.Mode;
import java.util.List;
import org.junit.jupiter.api.Test;

class FleetBrakeGateTest {
  private static final TrackedDrift A = orphan("a");
  private static final TrackedDrift B = orphan("b");
  private static final TrackedDrift C = orphan("c");

  private static List<String> gated(Plans.Builder in, boolean holds) {
    return render(FleetBrakeGate.apply(RepairPlanner.plan(in.build()), holds, "brake on"));
  }

  @Test
  void aBrakeThatHoldsTurnsEveryStartIntoAWaitForTheBrake() {
    Plans.Builder in = input().drift(A, auto("x")).drift(B, auto("y"));
    assertThat(gated(in, false)).containsExactly("a: START x#1", "b: START y#1");
    assertThat(gated(in, true))
        .containsExactly("a: WAIT x#1 fleet_brake", "b: WAIT y#1 fleet_brake");
  }

  @Test
  void nodeWideLimitsReadAsTheBrakeAsItIsCheckedBeforeThem() {
    Plans.Builder in =
        input().limits(1, 100).drift(A, auto("x")).drift(B, auto("y")).drift(C, auto("z"));
    assertThat(gated(in, false))
        .containsExactly("a: START x#1", "b: WAIT y#1 concurrency", "c: WAIT z#1 concurrency");
    assertThat(gated(in, true))
        .containsExactly(
            "a: WAIT x#1 fleet_brake", "b: WAIT y#1 fleet_brake", "c: WAIT z#1 fleet_brake");
  }

  @Test
  void whatTheNodeItselfHoldsBackKeepsItsOwnReasonAndAnApprovalRecordIsStillMade() {
    assertThat(gated(input().paused().drift(A, auto("x")), true))
        .containsExactly("a: WAIT x#1 paused");
    assertThat(gated(input().circuitOpen().drift(A, auto("x")), true))
        .containsExactly("a: WAIT x#1 circuit_open");
    assertThat(gated(input().mode(PlanMode.OFF).drift(A, auto("x")), true))
        .containsExactly("a: NONE mode_off");
    assertThat(gated(input().drift(A), true)).containsExactly("a: NONE no_script");
    assertThat(gated(input().drift(A, option("m", Mode.MANUAL, 1, 0)), true))
        .containsExactly("a: CREATE_PENDING_APPROVAL m#1 awaiting_approval");
  }

  @Test
  void theHeldDecisionSaysWhyInTheBrakesWords() {
    Decision d =
        FleetBrakeGate.apply(
                RepairPlanner.plan(input().drift(A, auto("x")).build()),
                true,
                "fleet storm brake is on: storm: 12 of 100 nodes")
            .getFirst();
    assertThat(d.reason()).isEqualTo("fleet storm brake is on: storm: 12 of 100 nodes; x waits");
    assertThat(d.option()).map(RepairOption::script).contains("x");
    assertThat(d.attempt()).isEqualTo(1);
  }
}
