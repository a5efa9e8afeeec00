package apicheck

import "embed"

// schemaFS holds the vendored API definitions; schemas/VERSIONS says where
// each file came from, and vendor.sh re-vendors them.
//
//go:embed schemas
var schemaFS embed.FS
