package dev.stateprobe.repair;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.events.EventRecorder;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.budget.BudgetWaits;
import dev.stateprobe.repair.budget.RepairBudget;
import dev.stateprobe.repair.catalog.Catalog;
import dev.stateprobe.repair.exec.ScriptExecutor;
import dev.stateprobe.repair.job.JobStore;
import dev.stateprobe.report.Reports;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What the repair controller is built from: the edges it acts through (API server, record store,
 * script executor, events, fresh reads) and the agent's clock, worker pool and metrics. One value,
 * so that the controller's parts take what they need from it and its wiring stays one call.
 *
 * @param scriptEnv variables added to every script's environment
 * @param budget the cluster repair budget a script's slot is taken from
 */
public record RepairParts(
    AgentConfig config,
    KubernetesClient client,
    JobStore store,
    Supplier<Catalog> catalog,
    ScriptExecutor executor,
    EventRecorder events,
    Revalidator revalidator,
    Metrics metrics,
    Clock clock,
    WorkerExecutor worker,
    Reports reports,
    Map<String, String> scriptEnv,
    RepairBudget budget,
    BudgetWaits budgetWaits) {

  /** Without a reader of the budget's waits. */
  public RepairParts(
      AgentConfig config,
      KubernetesClient client,
      JobStore store,
      Supplier<Catalog> catalog,
      ScriptExecutor executor,
      EventRecorder events,
      Revalidator revalidator,
      Metrics metrics,
      Clock clock,
      WorkerExecutor worker,
      Reports reports,
      Map<String, String> scriptEnv,
      RepairBudget budget) {
    this(
        config,
        client,
        store,
        catalog,
        executor,
        events,
        revalidator,
        metrics,
        clock,
        worker,
        reports,
        scriptEnv,
        budget,
        new BudgetWaits());
  }

  public RepairParts {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(catalog, "catalog");
    Objects.requireNonNull(executor, "executor");
    Objects.requireNonNull(events, "events");
    Objects.requireNonNull(revalidator, "revalidator");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(reports, "reports");
    scriptEnv = Map.copyOf(scriptEnv);
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(budgetWaits, "budgetWaits");
  }
}
