/**
 * Checks of the deployment files (manifests/, the Helm chart, Dockerfile,
 * repair-scripts/kustomization.yaml) read from the source tree: file parsing, the admission
 * policy's CEL run by cel-java, the chart rendered by helm-java in-process and the kustomizations
 * by {@code kubectl kustomize}; no cluster, no Docker, no built jar, no network.
 */
package dev.stateprobe.manifests;
