package apicheck

import "embed"

// schemaFS holds the vendored API definitions; schemas/VERSIONS says where
// each file came from, and vendor.sh re-vendors them.
//
//go:embed schemas
var schemaFS embed.FS

// chartFS holds the values of Istio's base, istiod and gateway charts at
// every supported version; charts/VERSIONS says where each file came from,
// and charts/gen.sh copies them again.
//
//go:generate bash charts/gen.sh
//go:embed charts/VERSIONS charts/1.*
var chartFS embed.FS
