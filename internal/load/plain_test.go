package load

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"cuelang.org/go/cue/cuecontext"
)

// plainSeeds are entries in and just outside ParsePlainEntry's subset.
var plainSeeds = []string{
	"  team-000:\n    injection: enabled\n    mtls: PERMISSIVE\n    labels: {team: t000, cost-center: \"1000\", cluster: c00001}\n    quota:\n      requests: {cpu: \"5\", memory: 5Gi}\n      limits: {cpu: \"10\", memory: 10Gi}\n      pods: 10\n    containerDefaults:\n      requests: {cpu: 100m, memory: 128Mi}\n      limits: {cpu: 500m, memory: 512Mi}\n    authorization:\n      - name: api-000-authz\n        selector: {app: api-000}\n        from:\n          - serviceAccount: web-000\n          - {namespace: team-000, serviceAccount: client}\n        methods: [GET, POST]\n        paths: [\"/api/*\"]\n",
	"  a:\n    labels: {}\n    authorization: []\n  # trailing comment\n\n",
	"  a: {injection: disabled}  # c\n",
	"  a:\n    quota:\n      pods: 0x10\n",
	"  a:\n    labels: {x: yes, y: 'on', z: 1.5, w: 1e3, v: 012, u: .inf, t: ~}\n",
	"  a:\n    labels:\n      x: multi\n        line\n",
	"  a:\n    authorization:\n    - name: same-indent\n",
	"  a:\n    paths:\n      - /a/*\n      - \"b c\"\n      - 'd#e'\n      -   f\n",
	"  a:\n    k: v #c\n    k2: v#c\n",
	"  a:\n    k: {a: [1, [2, 3], {b: c}], d: \"\"}\n",
	"  a:\n    k: 5Gi\n    k: 6Gi\n",
	"  a:\n    k: \"it''s\"\n    m: 'it''s'\n",
	"  a:\n    - 1\n    -\n      - 2\n",
	"  a:\n    u: https://kube.example:6443\n    v: a:b\n    w: 1:20\n    x: [a:b]\n    y: a:#c\n    z: x: y\n",
}

func TestParsePlainEntry(t *testing.T) {
	for _, c := range []struct {
		text string
		ok   bool
	}{
		{plainSeeds[0], true},
		{plainSeeds[1], true},
		{plainSeeds[2], true},
		{plainSeeds[3], false}, // 0x10: a number to some readers
		{plainSeeds[4], false}, // booleans, floats, octals, null
		{plainSeeds[5], false}, // a scalar over two lines
		{plainSeeds[6], false}, // a list at its key's indentation
		{plainSeeds[7], true},  // quoted strings with a space or a #, "-   f"
		{plainSeeds[9], true},
		{plainSeeds[10], false}, // a key given twice
		{"  a:\n    paths:\n      - /a/*\n      - \"b c\"\n      - 'd#e'\n", true},
		{"  a:\n    k: v #c\n", true},
		{"  a:\n    k: v#c\n", false},
		{"  a:\n    k:\n", false},
		{"  a: b\n  c: d\n", false}, // two entries
	} {
		_, _, ok := ParsePlainEntry([]byte(c.text))
		if ok != c.ok {
			t.Errorf("ParsePlainEntry(%q) ok = %v, want %v", c.text, ok, c.ok)
		}
		if ok {
			checkPlain(t, []byte(c.text))
		}
	}
}

// FuzzParsePlainEntry holds ParsePlainEntry to its promise: whatever it
// accepts, the full parser accepts too and reads as the same data.
func FuzzParsePlainEntry(f *testing.F) {
	for _, s := range plainSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if _, _, ok := ParsePlainEntry(text); ok {
			checkPlain(t, text)
		}
		if _, ok := ParsePlainMap(text); ok {
			checkPlainMap(t, text)
		}
	})
}

// TestParsePlainMap reads cluster heads as Parse does, and refuses what is
// not a top-level map in the subset.
func TestParsePlainMap(t *testing.T) {
	for _, text := range []string{
		"# a head\nname: cluster-0001\nnetwork: network-a\ncontrolPlane:\n  revision: \"1-21\"\n  tags: {stable: \"1-21\"}\n",
		"name: x\n",
		"name: x\nserver: https://kube.example:6443\nurl: a:b:c\n",
	} {
		if _, ok := ParsePlainMap([]byte(text)); !ok {
			t.Fatalf("refused: %q", text)
		}
		checkPlainMap(t, []byte(text))
	}
	for _, text := range []string{"", "  name: x\n", "- a\n", "name: x\n  bad: y\n", "name: yes\n", "sampling: 0.5\n",
		"t: 1:20\n", "t: a: b\n", "t: a:\n", "t: {a: b:c}\n", "t: :a\n"} {
		if _, ok := ParsePlainMap([]byte(text)); ok {
			t.Errorf("accepted: %q", text)
		}
	}
	for _, s := range plainSeeds {
		if _, ok := ParsePlainMap([]byte(s)); ok {
			checkPlainMap(t, []byte(s))
		}
	}
}

func checkPlainMap(t *testing.T, text []byte) {
	t.Helper()
	v, _ := ParsePlainMap(text)
	comparePlain(t, plainData(v), text)
}

func checkPlain(t *testing.T, text []byte) {
	t.Helper()
	name, v, _ := ParsePlainEntry(text)
	comparePlain(t, map[string]any{name: plainData(v)}, text)
}

// comparePlain requires Parse and CUE to read text as got.
func comparePlain(t *testing.T, got any, text []byte) {
	t.Helper()
	f, d := Parse("f.yaml", text)
	if f == nil || len(d) > 0 {
		t.Fatalf("ParsePlainEntry accepts what Parse refuses: %v\n%q", d, text)
	}
	b, err := cuecontext.New().BuildFile(f.AST).MarshalJSON()
	if err != nil {
		t.Fatalf("ParsePlainEntry accepts what CUE cannot evaluate: %v\n%q", err, text)
	}
	var want any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParsePlainEntry reads something else than Parse:\nplain: %#v\nparse: %#v\n%q", got, want, text)
	}
}

func plainData(v *Plain) any {
	switch v.Kind {
	case PlainMap:
		m := map[string]any{}
		for i, k := range v.Keys {
			m[k] = plainData(v.Vals[i])
		}
		return m
	case PlainList:
		l := []any{}
		for _, x := range v.Vals {
			l = append(l, plainData(x))
		}
		return l
	case PlainInt:
		return json.Number(v.Text)
	}
	return v.Text
}
