package yamlenc

import "unicode"

// keySorter sorts a map's keys, and its values with them, with yaml.v2's
// keyList.Less. It is used through a pointer into the pooled encoder, so
// sorting allocates nothing.
type keySorter struct {
	s []string
	v []any
}

func (k *keySorter) Len() int { return len(k.s) }
func (k *keySorter) Swap(i, j int) {
	k.s[i], k.s[j] = k.s[j], k.s[i]
	k.v[i], k.v[j] = k.v[j], k.v[i]
}
func (k *keySorter) Less(i, j int) bool { return keyLess(k.s[i], k.s[j]) }

// keyLess is keyList.Less (sorter.go) for two string keys: letters before
// everything else, runs of digits compared as numbers. yaml.v2 compares
// []rune copies of the keys; keyLessASCII does the same comparison on the
// bytes, without the copies, as long as every byte it looks at is ASCII.
func keyLess(a, b string) bool {
	if less, ok := keyLessASCII(a, b); ok {
		return less
	}
	return keyLessRunes([]rune(a), []rune(b))
}

// keyLessRunes is keyList.Less's string case, unchanged.
func keyLessRunes(ar, br []rune) bool {
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al := unicode.IsLetter(ar[i])
		bl := unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

// keyLessASCII is keyLessRunes on the bytes of the keys, where a letter
// is A-Z or a-z and a digit 0-9 (what unicode.IsLetter and IsDigit say
// below 0x80). It gives up (ok false) on reaching a byte that is not
// ASCII. Until then each byte is a rune, so the indices it compares are
// the rune indices keyLessRunes compares; and where the keys agree up to
// the end of the shorter one, the longer has more runes as it has more
// bytes.
func keyLessASCII(ar, br string) (less, ok bool) {
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] >= 0x80 || br[i] >= 0x80 {
			return false, false
		}
		if ar[i] == br[i] {
			continue
		}
		al := isLetter(ar[i])
		bl := isLetter(br[i])
		if al && bl {
			return ar[i] < br[i], true
		}
		if al || bl {
			return bl, true
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && isDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && isDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && isDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		// A run ends at the end of its key or at a byte that is not a
		// digit, which keyLessRunes sees as a rune only if it is ASCII.
		if ai < len(ar) && ar[ai] >= 0x80 || bi < len(br) && br[bi] >= 0x80 {
			return false, false
		}
		if an != bn {
			return an < bn, true
		}
		if ai != bi {
			return ai < bi, true
		}
		return ar[i] < br[i], true
	}
	return len(ar) < len(br), true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
