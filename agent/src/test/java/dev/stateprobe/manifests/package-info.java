/**
 * Checks of the deployment files (manifests/, Dockerfile, repair-scripts/kustomization.yaml) read
 * from the source tree: pure file parsing, no cluster, no Docker, no built jar.
 */
package dev.stateprobe.manifests;
