package yamlenc

// Ported reports whether Append writes v itself, without handing it to
// yaml.v2 for a value of a type not ported here.
func Ported(v map[string]any) bool {
	e := &encoder{indent: -1, whitespace: true, indention: true, width: bestWidth()}
	e.mapping(v)
	return !e.unsupported
}
