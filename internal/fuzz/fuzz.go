// Package fuzz holds meshc's end-to-end fuzz target, FuzzCompile: a mesh
// file and a cluster file go through load, validate, compile, overlay and
// render, and every input must end in either positioned errors or output
// that kustomize builds. Run it with `make fuzz`.
package fuzz
