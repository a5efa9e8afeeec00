package yamlenc

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	yaml "go.yaml.in/yaml/v2"
)

// requireSame fails unless Append writes v as yaml.v2 Marshal does, both
// into an empty buffer and after existing bytes.
func requireSame(t testing.TB, v map[string]any) {
	t.Helper()
	if !wellOrdered(v) {
		t.Fatalf("test bug: yaml.v2's key order is not defined for %#v", v)
	}
	want, err := yaml.Marshal(v)
	if err != nil {
		t.Fatalf("yaml.v2 cannot marshal %#v: %v", v, err)
	}
	if got := Append(nil, v); !bytes.Equal(got, want) {
		t.Fatalf("Append differs from yaml.v2 Marshal:\n%s", diff(want, got))
	}
	prefix := []byte("prefix\n")
	if got := Append(prefix[:len(prefix):len(prefix)], v); !bytes.Equal(got, append(prefix, want...)) {
		t.Fatalf("Append after existing bytes differs:\n%s", diff(append(prefix, want...), got))
	}
}

func diff(want, got []byte) string {
	d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(want)), B: difflib.SplitLines(string(got)),
		FromFile: "yaml.v2", ToFile: "yamlenc", Context: 3,
	})
	return fmt.Sprintf("%s\nyaml.v2: %q\nyamlenc: %q", d, want, got)
}

// trickyStrings are the strings internal/build's TestEveryStringSurvives
// puts in cluster files, and then more: every reason yaml.v2 has to quote
// a string, change its style or fold it.
var trickyStrings = []string{
	"yes", "no", "on", "off", "y", "n", "Y", "NO", "True", "false",
	"~", "null", "Null", "",
	"0123", "0x1F", "0o17", "0b101", "1_000", "1e3", "12e03", "1.0", "-1", "+1", "1:20", ".inf", "-.inf", ".NaN", "NaN",
	"2024-01-01", "2001-12-14t21:59:43.10-05:00",
	": ", "#", "a #b", "key: value", "- item", "? x", "*alias", "&anchor", "!tag", "%YAML", "@at", "`tick", "|", ">", "=", "<<",
	"[1, 2]", "{a: 1}", `"double"`, `'single'`, `back\slash`, "tab\there",
	"  leading", "trailing  ", " ", "Ünïcödé ✓", "日本語", "emoji 🚀",
	"line one\nline two", "line one\nline two\n", "  indented\nnext  \n", "ends with blank lines\n\n\n", "\nstarts with a newline",
	"x\n---\ny", "---", "...", "windows\r\nline",

	// Long text: yaml.v2 folds plain and quoted scalars at spaces past
	// column 80, never a word.
	strings.Repeat("lorem ipsum ", 16) + "dolor!!",
	strings.Repeat("x", 200),
	strings.Repeat("quoted: ", 25),
	strings.Repeat("'q' ", 50),
	strings.Repeat("double  spaced ", 14),
	strings.Repeat("tab\tand space ", 15),
	strings.Repeat("a ", 100),
	strings.Repeat("é ", 100),
	strings.Repeat("word ", 40) + "\n" + strings.Repeat("word ", 40),
	strings.Repeat("- ", 60),
	strings.Repeat("y", 79) + " z " + strings.Repeat("y", 10),
	strings.Repeat("x", 74) + " y", strings.Repeat("x", 75) + " y", strings.Repeat("x", 76) + " y",
	strings.Repeat("x", 77) + " y", strings.Repeat("x", 78) + " y", strings.Repeat("x", 79) + " y",
	strings.Repeat("x", 80) + " y", strings.Repeat("x", 81) + " y", strings.Repeat("x", 78) + "  y",
	// A key of up to 128 bytes (not characters) goes on its value's
	// line; a longer one after "? ".
	strings.Repeat("k", 128), strings.Repeat("k", 129), strings.Repeat("é", 64), strings.Repeat("é", 65),
	strings.Repeat("k ", 64), strings.Repeat("k ", 64) + "k",

	// Control characters, other line breaks, the BOM, characters
	// beyond U+FFFF, and bytes that are not UTF-8 (written as !!binary).
	"\x00", "nul\x00in", "\x01\x07\x08\x0b\x0c\x1b\x7f", "bell\a", "esc\x1b[0m",
	"\u0080", "c1 \u009f", "\u0085", "nel\u0085x", "\u00a0", "nbsp\u00a0x", "\u2028", "ls\u2028ps\u2029", "a\n\u2028b",
	"\uFEFF", "\uFEFFbom first", "bom \uFEFF inside", "\uFFFE", "\uFFFF", "\uE000", "\U0001F680",
	"\xff", "\xc3\x28", "bad \xff utf8", "\xff\n\xfe", strings.Repeat("\xfe", 60), strings.Repeat("\x80ab", 40),
	"\uFEFF\u00a0\u2028\u2029\\\"x", "\x01\u2028\u2029\\\" \u00a0", "line\nendé", "line\né\n", "x\n\u2028", "é\n\n",
	"\r", "\rcr", "cr\r", "\r\n", "\n", "\n\n", " \n", "\n ", "a \nb", "a\n b", "a\n\n b",
	"\ttab", "tab\t", "\t", " leading", " lead\t", "ls\u2028 ps", "a \u2028b", "\u2028 x", "x \u2028",

	// Indicators and near misses.
	"-", "--", "----", "-x", "- ", "?", "?x", ":", ":x", "x:", "x:y", "x: y", "x #y", "x#y", "#x",
	",", ",x", "x,y", "[", "]", "{", "}", "x[y]", "&", "*", "!", "|x", ">x", "'", `"`, "%", "@", "`",
	"... x", "--- x", "...x", "---x",

	// Strings that would read back as something else, and near misses.
	"Yes", "YES", "On", "ON", "Off", "OFF", "N", "No", "TRUE", "FALSE", "NULL", "yes!", "nope", "o", "t", "f",
	"0", "00", "-0", "+0", "1", "12", "123456789012345678901234567890", "9223372036854775807", "9223372036854775808",
	"18446744073709551616", "-9223372036854775809", "0x", "0xZ", "0X1f", "0o8", "0b2", "0b", "-0b101", "+0b1",
	"0b-1", "0b+1", "-0b-1", "-0b2", "-0b", "0b" + strings.Repeat("1", 64), "-0b" + strings.Repeat("1", 64), "-0b" + strings.Repeat("1", 63), "1_", "_1", "1__0", "0x_1F", "1e", "1e+", "1e+3", "1E-3", "-1.5e3", ".5", "5.", "+.5",
	".", "..", ".e1", ".5e1", "._5", ".1_0", "1.2.3", "1.22.3", "1-20", "1-21", "2Gi", "100m", "1h", "30m",
	"1:2", "1:60", "190:20:30", "-1:20", "+1:20:30.5", "1:2:3.4_5", "1_0:20", "12:30:45",
	"2024-1-1", "2024-01-01T00:00:00Z", "2024-01-01 10:20:30", "2024-01-01 10:20:30.5", "2024-13-01", "2024-01-01x",
	"2001-12-14 21:59:43.10 -5", "20240-01-01", "inf", "-inf", ".Inf", "+.inf", "+.INF", ".nan", ".NAN",
	"<", "<<<", "=", "~x", "x~",
}

// keyLikeStrings are keys whose order tests yaml.v2's natural sort.
var keyLikeStrings = []string{
	"a", "b", "B", "Z", "_", "a1", "a2", "a10", "a01", "a001", "a0", "a00", "1", "01", "001", "10", "2", "9",
	"1a", "10a", "x0y", "x00y", "x10y", "x1y", "ab", "aB", "a-b", "a_b", "a.b", "a/b", "Ü", "ü", "é1", "é01",
	"日本", "٣", "a٣", "a3", "0", "00", "000", "0a", "-1", "+1", "a10b2", "a10b10", "a9b", "1.10", "1.9",
	"a1é", "a2é", "a1٣", "a12", "a1\xff", "a1x", "é", "e",
	"99999999999999999999", "99999999999999999998", "a99999999999999999999", "apiVersion", "kind", "metadata", "spec",
}

func TestTrickyStrings(t *testing.T) {
	for i, s := range trickyStrings {
		t.Run(fmt.Sprintf("%03d", i), func(t *testing.T) {
			for _, v := range shapes(s) {
				requireSame(t, v)
			}
		})
	}
}

// shapes puts s everywhere a string goes: a value, a key and an item, in
// mappings and sequences nested to several depths, after keys of several
// lengths (which moves the column where folding starts).
func shapes(s string) []map[string]any {
	out := []map[string]any{
		{"k": s},
		{s: "v"},
		{s: s},
		{"list": []any{s}},
		{"list": []any{s, s, "after"}},
		{"strings": []string{s, "x"}},
		{"labels": map[string]string{s: s, "other": s}},
		{"a": map[string]any{"b": map[string]any{"c": s, s: s}}},
		{"a": map[string]any{"b": []any{map[string]any{"c": s, s: []any{s, []any{s}}}}}},
		{"nested": []any{[]any{[]any{s}}, map[string]any{"m": []any{s}}}},
		{"empty": map[string]any{}, s: []any{}, "after": s},
		{s: map[string]any{s: map[string]any{s: []any{s}}}},
		{"maps": []map[string]any{{s: s}, {}}},
	}
	deep := any(s)
	for d := 0; d < 6; d++ {
		if d%2 == 0 {
			deep = map[string]any{strings.Repeat("k", d*7+1): deep, s: d}
		} else {
			deep = []any{deep, s}
		}
		out = append(out, map[string]any{"deep": deep})
	}
	for _, n := range []int{1, 8, 30, 60, 75, 79, 80, 81, 100} {
		out = append(out, map[string]any{strings.Repeat("p", n): s})
		out = append(out, map[string]any{"i": map[string]any{strings.Repeat("q", n): s}})
		out = append(out, map[string]any{strings.Repeat("r", n): []any{s}})
	}
	return out
}

func TestAllTrickyStringsTogether(t *testing.T) {
	m := map[string]any{}
	for i, s := range orderable(trickyStrings) {
		m[s] = map[string]any{fmt.Sprintf("s%03d", i): s, s: []any{s, i}}
	}
	requireSame(t, m)
	requireSame(t, map[string]any{"all": trickyStrings, "again": []any{m}})
}

func TestKeyOrder(t *testing.T) {
	m := map[string]any{}
	keys := orderable(append(slices.Clone(keyLikeStrings), trickyStrings...))
	if len(keys) < 200 {
		t.Fatalf("only %d keys to sort", len(keys))
	}
	for i, k := range keys {
		m[k] = i
	}
	// Each run ranges over the map in another order.
	for range 20 {
		requireSame(t, m)
	}
}

// orderable returns as many of keys as it can (trying them in turn) on
// which keyList.Less is a strict total order, sorted. Less is not an order
// on every set of strings: "1" < "01" (equal numbers, the shorter first),
// "01" < "0a" (a letter after the other character) and "0a" < "1" (0 < 1);
// and a run of 19 or more digits overflows its int64. Where it is not,
// which order yaml.v2 writes depends on the order the map hands out its
// keys in (TestKeyOrderWhenLessIsNoOrder).
func orderable(keys []string) []string {
	var sorted []string
next:
	for _, k := range keys {
		pos := 0
		for _, s := range sorted {
			if s == k {
				continue next
			}
			if keyLess(s, k) {
				pos++
			}
		}
		for i, s := range sorted {
			if i < pos && (!keyLess(s, k) || keyLess(k, s)) || i >= pos && (!keyLess(k, s) || keyLess(s, k)) {
				continue next
			}
		}
		sorted = slices.Insert(sorted, pos, k)
	}
	return sorted
}

// wellOrdered reports whether keyLess is a strict total order on the keys
// of every map in v, which is when yaml.v2's key order is a function of
// the keys alone and not of the map's iteration order.
func wellOrdered(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k, x := range v {
			if !wellOrdered(x) {
				return false
			}
			keys = append(keys, k)
		}
		return totallyOrdered(keys)
	case map[string]string:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		return totallyOrdered(keys)
	case []any:
		for _, x := range v {
			if !wellOrdered(x) {
				return false
			}
		}
	case []map[string]any:
		for _, x := range v {
			if !wellOrdered(x) {
				return false
			}
		}
	}
	return true
}

func totallyOrdered(keys []string) bool {
	sort.Sort(&keySorter{s: keys, v: make([]any, len(keys))})
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if !keyLess(keys[i], keys[j]) || keyLess(keys[j], keys[i]) {
				return false
			}
		}
	}
	return true
}

// TestAnalyzeWord checks the shortcut against the whole analysis.
func TestAnalyzeWord(t *testing.T) {
	words := 0
	for _, s := range append(slices.Clone(keyLikeStrings), trickyStrings...) {
		if a, ok := analyzeWord(s); ok {
			words++
			if want := analyzeAny(s); a != want {
				t.Errorf("analyzeWord(%q) = %+v, analyzeAny says %+v", s, a, want)
			}
		}
	}
	if words < 50 {
		t.Errorf("only %d words to check analyzeWord on", words)
	}
}

// TestKeyLess checks the byte-wise comparison against yaml.v2's rune-wise
// one on every pair of keyLikeStrings and trickyStrings.
func TestKeyLess(t *testing.T) {
	keys := append(slices.Clone(keyLikeStrings), trickyStrings...)
	ascii := 0
	for _, a := range keys {
		for _, b := range keys {
			if got, want := keyLess(a, b), keyLessRunes([]rune(a), []rune(b)); got != want {
				t.Errorf("keyLess(%q, %q) = %v, keyList.Less says %v", a, b, got, want)
			}
			if _, ok := keyLessASCII(a, b); ok {
				ascii++
			}
		}
	}
	if ascii == 0 || ascii == len(keys)*len(keys) {
		t.Errorf("keyLessASCII decided %d of %d pairs; the test needs both kinds", ascii, len(keys)*len(keys))
	}
}

func TestValues(t *testing.T) {
	values := []any{
		nil, true, false,
		0, 1, -1, 42, 15443, math.MaxInt, math.MinInt,
		int8(-8), int16(16), int32(-32), int64(math.MaxInt64), int64(math.MinInt64),
		uint(7), uint8(255), uint16(65535), uint32(1 << 31), uint64(math.MaxUint64), uintptr(9),
		0.0, math.Copysign(0, -1), 1.0, 0.5, 1.5, -2.25, 100.0, 1e6, 1e20, 1e21, 1e-6, 1e-7, 123456789.125,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 0.1 + 0.2,
		float32(0.1), float32(1e10), float32(math.Inf(-1)),
		map[string]any{}, []any{}, []string{}, map[string]string{}, []map[string]any{},
		map[string]any(nil), []any(nil), []string(nil),
		[]any{nil, true, 1, 1.5, "s", []any{}, map[string]any{}},
		[]any{[]any{[]any{1, 2}, []any{}}, []any{map[string]any{"a": 1, "b": 2}}},
		[]any{map[string]any{"a": []any{1, 2}, "b": map[string]any{"c": []any{map[string]any{"d": 1}}}}},
		map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{}}}},
	}
	all := map[string]any{}
	for i, v := range values {
		requireSame(t, map[string]any{"v": v})
		requireSame(t, map[string]any{"l": []any{v}, "n": map[string]any{"v": v}})
		all[fmt.Sprint(i)] = v
	}
	requireSame(t, all)
	requireSame(t, map[string]any{})
	requireSame(t, nil)
}

// TestUnportedTypesGoToYAMLv2 puts values Append does not port in a
// document; the result must still be yaml.v2's.
func TestUnportedTypesGoToYAMLv2(t *testing.T) {
	type name string
	type point struct{ X, Y int }
	s := "yes"
	for _, v := range []any{
		name("yes"), point{1, 2}, &s, (*string)(nil), time.Duration(90 * time.Second),
		time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), []int{1, 2}, map[string]int{"a": 1}, map[any]any{1: "a", "b": 2},
		[2]string{"a", "b"}, yaml.MapSlice{{Key: "z", Value: 1}, {Key: "a", Value: 2}},
	} {
		doc := map[string]any{"before": "x", "v": v, "list": []any{v}}
		if Ported(doc) {
			t.Errorf("Ported says Append writes a %T itself", v)
		}
		requireSame(t, doc)
	}
}

// TestKeyOrderWhenLessIsNoOrder shows what Append does with keys that
// keyList.Less does not order: yaml.v2 writes them in one of several
// orders, depending on the order reflect's MapKeys hands them out in, and
// Append, which sorts them with the same sort.Sort and the same Less from
// the order range hands them out in, writes one of those.
func TestKeyOrderWhenLessIsNoOrder(t *testing.T) {
	m := map[string]any{"1": 1, "01": 2, "0a": 3}
	byYAMLv2 := map[string]bool{}
	for range 2000 {
		y, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		byYAMLv2[string(y)] = true
	}
	if len(byYAMLv2) < 2 {
		t.Fatalf("yaml.v2 wrote %q every time; pick keys Less does not order", slices.Collect(maps.Keys(byYAMLv2)))
	}
	for range 200 {
		if y := Append(nil, m); !byYAMLv2[string(y)] {
			t.Fatalf("Append wrote\n%s\nwhich yaml.v2 never did; it wrote %q", y, slices.Collect(maps.Keys(byYAMLv2)))
		}
	}
}

// TestFutureLineWrap runs itself again in a process that has called
// yaml.FutureLineWrap, which turns yaml.v2's folding off process-wide (and
// for good, hence the second process), and requires Append to follow.
func TestFutureLineWrap(t *testing.T) {
	if os.Getenv("YAMLENC_FUTURE_LINE_WRAP") == "1" {
		yaml.FutureLineWrap()
		if bestWidth() != 1<<31-1 {
			t.Errorf("after yaml.FutureLineWrap, bestWidth is %d", bestWidth())
		}
		for _, s := range trickyStrings {
			requireSame(t, map[string]any{strings.Repeat("k", 70): s, "l": []any{s}})
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFutureLineWrap$", "-test.v")
	cmd.Env = append(os.Environ(), "YAMLENC_FUTURE_LINE_WRAP=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestFutureLineWrap")) {
		t.Fatalf("with yaml.FutureLineWrap: %v\n%s", err, out)
	}
}
