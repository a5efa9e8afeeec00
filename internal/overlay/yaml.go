package overlay

import (
	"github.com/golemtrust/meshc/internal/compile"
	"github.com/golemtrust/meshc/internal/yamlenc"
)

// Encode writes docs as a YAML stream, each document as kustomize prints
// objects (go-yaml v2's format, through yamlenc): map keys sorted, and
// every string quoted where YAML would read it as something else ("yes",
// "0123", "~"), so it survives the trip. An overlay's own objects are then
// byte for byte what the golden file shows for them.
func Encode(docs ...compile.Doc) []byte {
	var buf []byte
	for i, d := range docs {
		if i > 0 {
			buf = append(buf, "---\n"...)
		}
		buf = yamlenc.Append(buf, d)
	}
	return buf
}
