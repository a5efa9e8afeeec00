package load

import (
	"encoding/json"
	"reflect"
	"testing"

	"cuelang.org/go/cue/cuecontext"
)

// FuzzSplitNamespaces holds the splitter to its promise: whenever the head
// and every entry parse on their own (the only case in which the validator
// uses them), the whole file parses too and means exactly the same data.
func FuzzSplitNamespaces(f *testing.F) {
	for _, s := range []string{
		"name: a\nnamespaces:\n  x:\n    labels: {a: b}\n  y: {injection: disabled}\nsidecar: {}\n",
		"namespaces:  # c\n  x:\n    q: |\n      a\n\n      b\n# col0\n  y:\n    - 1\n",
		"namespaces:\n  x: 1\n  x: 2\n",
		"namespaces:\n  x:\n   a: 1\n  y:\n    b: 2\n",
		"a: 1\nnamespaces:\n\n  x: 'it''s'\n  \"y\": \"a\\nb\"\nb: [1, 2]\n",
		"namespaces:\n  x: >\n    folded\n    text\n  y: null\n",
		"namespaces:\n  x:\n    k: \"multi\n    line\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		head, entries, ok := SplitNamespaces(data)
		if !ok {
			return
		}
		hf, d := Parse("f.yaml", head)
		if hf == nil || len(d) > 0 {
			return
		}
		merged := toData(t, hf)
		if merged == nil {
			return
		}
		if _, has := merged["namespaces"]; has {
			t.Fatalf("the head still has namespaces:\n%s", head)
		}
		ns := map[string]any{}
		for _, e := range entries {
			ef, d := Parse("f.yaml", e.Text)
			if ef == nil || len(d) > 0 {
				return
			}
			m := toData(t, ef)
			if len(m) != 1 {
				return
			}
			for k, v := range m {
				if _, dup := ns[k]; dup {
					return // the validator refuses this split
				}
				ns[k] = v
			}
		}
		merged["namespaces"] = ns
		whole, d := Parse("f.yaml", data)
		if whole == nil || len(d) > 0 {
			t.Fatalf("the pieces parse but the whole file does not: %v\n%q", d, data)
		}
		if want := toData(t, whole); !reflect.DeepEqual(merged, want) {
			t.Fatalf("the pieces mean something else than the whole file:\npieces: %v\nwhole:  %v\n%q", merged, want, data)
		}
	})
}

// toData evaluates a parsed file to plain data; nil when it is not a
// concrete map.
func toData(t *testing.T, f *File) map[string]any {
	v := cuecontext.New().BuildFile(f.AST)
	b, err := v.MarshalJSON()
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}
