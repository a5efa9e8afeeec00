package yamlenc

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// resolvesToStr reports whether yaml.v2's resolve("", s) returns !!str,
// that is whether s, written plain, reads back as the same string and not
// as a bool, null, number, timestamp or merge key.
//
// It is resolve.go's resolve, with shortcuts for strings such as "100m",
// "2Gi", "1-21" or "1.22.3" that meshc writes often: they skip strconv
// parses that cannot succeed (and would allocate their errors); each is
// commented with why.
func resolvesToStr(s string) bool {
	var hint byte = 'N'
	if s != "" {
		hint = resolveTable[s[0]]
	}
	if hint == 0 {
		return true
	}
	if inResolveMap(s) {
		return false
	}
	switch hint {
	case 'M':
		return true
	case '.':
		// A float that starts with '.' is a decimal one: no sign, no
		// "inf" or "nan", no hex prefix, so it has no other bytes.
		if !onlyBytes(s, ".0123456789eE+-_") {
			return true
		}
		_, err := strconv.ParseFloat(s, 64)
		return err != nil
	case 'D', 'S':
		if _, ok := parseTimestamp(s); ok {
			return false
		}
		// What ParseInt and ParseUint (base 0: sign, 0x/0o/0b prefixes,
		// hex digits), the float pattern and the binary parses below can
		// accept has no other bytes ('b' and 'e' are hex digits).
		if !onlyBytes(s, "0123456789abcdefABCDEFxXoO+-_.") {
			return true
		}
		if !strings.Contains(s, "_") && misplacedSign(s) {
			return true
		}
		plain := strings.ReplaceAll(s, "_", "")
		// No integer syntax has a '.', so only the float pattern can
		// accept plain then; each parse below resolves s to other than
		// !!str when it succeeds, so which runs first does not matter.
		ints := strings.IndexByte(plain, '.') < 0
		if ints {
			if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
				return false
			}
			if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
				return false
			}
		}
		if yamlStyleFloat.MatchString(plain) {
			if _, err := strconv.ParseFloat(plain, 64); err == nil {
				return false
			}
		}
		if !ints {
			return true
		}
		if strings.HasPrefix(plain, "0b") {
			if _, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
				return false
			}
			if _, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
				return false
			}
		} else if strings.HasPrefix(plain, "-0b") {
			if _, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
				return false
			}
		}
		return true
	}
	// resolve panics on a hint it does not know; resolveTable has none.
	return true
}

func onlyBytes(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// misplacedSign reports whether s (with no '_', so the parses see s
// itself) has a sign that every parse resolve tries rejects: ParseInt
// takes one only first, ParseUint none, the float pattern one first or
// after the exponent's e, ParseInt(s[2:], 2) one first in s[2:] after
// "0b", and "-"+s[3:] after "-0b" fails with any.
func misplacedSign(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != '+' && s[i] != '-' {
			continue
		}
		if s[i-1] == 'e' || s[i-1] == 'E' {
			continue
		}
		if i == 2 && s[:2] == "0b" {
			continue
		}
		return true
	}
	return false
}

// resolveTable is resolve.go's: the hint the first byte gives.
var resolveTable = func() (t [256]byte) {
	t['+'] = 'S'
	t['-'] = 'S'
	for _, c := range "0123456789" {
		t[c] = 'D'
	}
	for _, c := range "yYnNtTfFoO~" {
		t[c] = 'M'
	}
	t['.'] = '.'
	return t
}()

// inResolveMap is whether s is a key of resolve.go's resolveMap, all of
// which resolve to something other than !!str.
func inResolveMap(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES",
		"true", "True", "TRUE",
		"on", "On", "ON",
		"n", "N", "no", "No", "NO",
		"false", "False", "FALSE",
		"off", "Off", "OFF",
		"", "~", "null", "Null", "NULL",
		".nan", ".NaN", ".NAN",
		".inf", ".Inf", ".INF",
		"+.inf", "+.Inf", "+.INF",
		"-.inf", "-.Inf", "-.INF",
		"<<":
		return true
	}
	return false
}

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// isBase60Float is encode.go's: YAML 1.1 sexagesimal numbers, which
// yaml.v2 does not read but quotes for parsers that do.
func isBase60Float(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c == '+' || c == '-' || c >= '0' && c <= '9') || strings.IndexByte(s, ':') < 0 {
		return false
	}
	return base60float.MatchString(s)
}

var base60float = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)

// allowedTimestampFormats and parseTimestamp are resolve.go's.
var allowedTimestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

func parseTimestamp(s string) (time.Time, bool) {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return time.Time{}, false
	}
	for _, format := range allowedTimestampFormats {
		if t, err := time.Parse(format, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// encodeBase64 is resolve.go's: base64 in lines of 70, each ended by a
// newline once there is more than one.
func encodeBase64(s string) string {
	const lineLen = 70
	encLen := base64.StdEncoding.EncodedLen(len(s))
	lines := encLen/lineLen + 1
	buf := make([]byte, encLen*2+lines)
	in := buf[0:encLen]
	out := buf[encLen:]
	base64.StdEncoding.Encode(in, []byte(s))
	k := 0
	for i := 0; i < len(in); i += lineLen {
		j := i + lineLen
		if j > len(in) {
			j = len(in)
		}
		k += copy(out[k:], in[i:j])
		if lines > 1 {
			out[k] = '\n'
			k++
		}
	}
	return string(out[:k])
}
