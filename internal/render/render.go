// Package render prints a cluster's objects as `kustomize build` prints
// its overlay: the golden file. It never runs kustomize itself;
// internal/kustomizeoracle, which does, proves the bytes equal in tests.
package render
