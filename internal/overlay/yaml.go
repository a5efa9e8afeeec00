package overlay

import (
	"bytes"

	yaml "go.yaml.in/yaml/v3"

	"github.com/golemtrust/meshc/internal/compile"
)

// Encode writes docs as a YAML stream. Map keys come out sorted, as
// kustomize prints them, and every string is quoted where YAML would read
// it as something else ("yes", "0123", "~"), so it survives the trip.
func Encode(docs ...compile.Doc) []byte {
	var buf bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		enc.CompactSeqIndent()
		if err := enc.Encode(d); err != nil {
			// Docs are maps of strings, numbers, bools, maps and lists;
			// anything else is a meshc bug.
			panic("overlay: cannot encode YAML: " + err.Error())
		}
		enc.Close()
	}
	return buf.Bytes()
}
