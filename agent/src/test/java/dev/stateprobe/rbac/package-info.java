/**
 * The RBAC test: the ClusterRole the manifests ship is held to the requests a running agent and its
 * repair scripts really make. Rule: every grant is either observed in use or listed, with the
 * reason it cannot be observed here, as an exception.
 */
package dev.stateprobe.rbac;
