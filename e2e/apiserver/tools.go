//go:build tools

// Package tools pins the two server binaries the e2e harness builds:
//
//	go build -o kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
//	go build -o etcd go.etcd.io/etcd/server/v3
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
