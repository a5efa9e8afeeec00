// Command e2echeck holds the few YAML and JSON checks of the meshc e2e
// harness (e2e/run.sh) that are awkward in bash. It parses YAML the way
// kubectl does (sigs.k8s.io/yaml) and quantities the way the API server does
// (k8s.io/apimachinery's resource package).
//
//	e2echeck objects FILE            one line per object: apiVersion kind namespace name
//	e2echeck namespaces FILE NS,...  every namespace an object lives in is created by FILE or listed
//	e2echeck paths FILE              Flux Kustomization / Argo CD Application paths: engine object path repoURL
//	e2echeck readback FILE LIVE.json every field applied from FILE is held by the server as applied
//	e2echeck same A B [NAME_A NAME_B] both files hold the same objects with the same content
//	e2echeck changed BEFORE AFTER    no object of BEFORE (server JSON) has another resourceVersion,
//	                                 generation or uid in AFTER; else what changed, field by field
//
// Exit status: 0 fine, 1 a check failed (the reasons go to stdout, one per
// line), 2 usage or parse error.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

type object = map[string]any

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	var problems []string
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; {
	case cmd == "objects" && len(args) >= 1:
		err = cmdObjects(args)
	case cmd == "namespaces" && len(args) == 2:
		problems, err = cmdNamespaces(args[0], args[1])
	case cmd == "paths" && len(args) >= 1:
		err = cmdPaths(args)
	case cmd == "readback" && len(args) == 2:
		problems, err = cmdReadback(args[0], args[1])
	case cmd == "same" && len(args) == 2:
		problems, err = cmdSame(args[0], args[1], args[0], args[1])
	case cmd == "same" && len(args) == 4:
		problems, err = cmdSame(args[0], args[1], args[2], args[3])
	case cmd == "changed" && len(args) == 2:
		problems, err = cmdChanged(args[0], args[1])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2echeck:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: e2echeck objects|namespaces|paths|readback|same|changed ARGS (see the source)")
	os.Exit(2)
}

// readObjects reads every object of a multi-document YAML (or JSON) file,
// flattening v1 Lists, and normalises each through JSON so numbers compare
// alike whatever file they came from.
func readObjects(path string) ([]object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []object
	for i, doc := range splitDocuments(data) {
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %v", path, i+1, err)
		}
		var v any
		if err := json.Unmarshal(js, &v); err != nil {
			return nil, fmt.Errorf("%s: document %d: %v", path, i+1, err)
		}
		if v == nil {
			continue
		}
		o, ok := v.(object)
		if !ok {
			return nil, fmt.Errorf("%s: document %d is not a mapping", path, i+1)
		}
		if items, ok := o["items"].([]any); ok && strings.HasSuffix(str(o, "kind"), "List") {
			for _, it := range items {
				if io, ok := it.(object); ok {
					out = append(out, io)
				}
			}
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// splitDocuments splits a YAML stream at "---" lines, as kubectl does.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimRight(line, " \t") == "---" || strings.HasPrefix(line, "--- ") {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	docs = append(docs, cur.Bytes())
	return docs
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, l := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func str(o object, keys ...string) string {
	var cur any = o
	for _, k := range keys {
		m, ok := cur.(object)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

func group(apiVersion string) string {
	if i := strings.Index(apiVersion, "/"); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// id names an object independently of the API version it was written in.
func id(o object) string {
	g := group(str(o, "apiVersion"))
	k := str(o, "kind")
	if g != "" {
		k += "." + g
	}
	ns := str(o, "metadata", "namespace")
	if ns == "" {
		return k + " " + str(o, "metadata", "name")
	}
	return k + " " + ns + "/" + str(o, "metadata", "name")
}

func cmdObjects(files []string) error {
	for _, f := range files {
		objs, err := readObjects(f)
		if err != nil {
			return err
		}
		for _, o := range objs {
			ns := str(o, "metadata", "namespace")
			if ns == "" {
				ns = "-"
			}
			// The fifth column says whether the object carries
			// finalizers (a controller that does not run here would
			// lift them).
			fin := "-"
			if md, _ := o["metadata"].(object); md != nil {
				if l, _ := md["finalizers"].([]any); len(l) > 0 {
					fin = "finalizers"
				}
			}
			fmt.Printf("%s\t%s\t%s\t%s\t%s\n", str(o, "apiVersion"), str(o, "kind"), ns, str(o, "metadata", "name"), fin)
		}
	}
	return nil
}

func cmdNamespaces(file, allowed string) ([]string, error) {
	objs, err := readObjects(file)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, n := range strings.Split(allowed, ",") {
		if n != "" {
			have[n] = true
		}
	}
	for _, o := range objs {
		if str(o, "apiVersion") == "v1" && str(o, "kind") == "Namespace" {
			have[str(o, "metadata", "name")] = true
		}
	}
	var problems []string
	for _, o := range objs {
		if ns := str(o, "metadata", "namespace"); ns != "" && !have[ns] {
			problems = append(problems, fmt.Sprintf("%s: namespace %q is neither created by this build nor one a cluster already has (%s)", id(o), ns, allowed))
		}
	}
	return problems, nil
}

// cmdPaths prints the repository paths that GitOps objects point at, so the
// harness can follow them: a Flux Kustomization's spec.path and every Argo
// CD Application source that has a path (chart sources have none).
func cmdPaths(files []string) error {
	for _, f := range files {
		objs, err := readObjects(f)
		if err != nil {
			return err
		}
		for _, o := range objs {
			g, k := group(str(o, "apiVersion")), str(o, "kind")
			name := str(o, "metadata", "namespace") + "/" + str(o, "metadata", "name")
			switch {
			case g == "kustomize.toolkit.fluxcd.io" && k == "Kustomization":
				p := str(o, "spec", "path")
				if p == "" {
					p = "./"
				}
				fmt.Printf("flux\t%s\t%s\t-\n", name, p)
			case g == "argoproj.io" && k == "Application":
				spec, _ := o["spec"].(object)
				var sources []any
				if s, ok := spec["source"].(object); ok {
					sources = append(sources, s)
				}
				if ss, ok := spec["sources"].([]any); ok {
					sources = append(sources, ss...)
				}
				for _, s := range sources {
					so, _ := s.(object)
					if so == nil || str(so, "chart") != "" || str(so, "path") == "" {
						continue
					}
					repo := str(so, "repoURL")
					if repo == "" {
						repo = "-"
					}
					fmt.Printf("argocd\t%s\t%s\t%s\n", name, str(so, "path"), repo)
				}
			case g == "argoproj.io" && k == "ApplicationSet":
				// A git directory generator's paths are globs: each
				// folder they match becomes an Application's source.
				spec, _ := o["spec"].(object)
				gens, _ := spec["generators"].([]any)
				for _, gen := range gens {
					git, _ := gen.(object)["git"].(object)
					if git == nil {
						continue
					}
					dirs, _ := git["directories"].([]any)
					for _, d := range dirs {
						do, _ := d.(object)
						if do == nil || str(do, "path") == "" || do["exclude"] == true {
							continue
						}
						repo := str(git, "repoURL")
						if repo == "" {
							repo = "-"
						}
						fmt.Printf("argocd-appset\t%s\t%s\t%s\n", name, str(do, "path"), repo)
					}
				}
			}
		}
	}
	return nil
}

func cmdReadback(builtFile, liveFile string) ([]string, error) {
	built, err := readObjects(builtFile)
	if err != nil {
		return nil, err
	}
	live, err := readObjects(liveFile)
	if err != nil {
		return nil, err
	}
	byID := map[string]object{}
	byNoNS := map[string]object{}
	for _, o := range live {
		byID[id(o)] = o
		g := group(str(o, "apiVersion"))
		byNoNS[g+" "+str(o, "kind")+" "+str(o, "metadata", "name")] = o
	}
	var problems []string
	for _, b := range built {
		l, ok := byID[id(b)]
		if !ok && str(b, "metadata", "namespace") == "" {
			l, ok = byNoNS[group(str(b, "apiVersion"))+" "+str(b, "kind")+" "+str(b, "metadata", "name")]
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: applied but not found on the server", id(b)))
			continue
		}
		if str(b, "apiVersion") != str(l, "apiVersion") {
			problems = append(problems, fmt.Sprintf("%s: applied as %s, read back as %s", id(b), str(b, "apiVersion"), str(l, "apiVersion")))
			continue
		}
		for _, d := range subset(b, l, "", readbackWords) {
			problems = append(problems, id(b)+": "+d)
		}
	}
	return problems, nil
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case object:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// words phrase a difference between what was wanted and what was found.
type words struct{ want, got string }

var readbackWords = words{"applied", "server holds"}

func (w words) differ(path string, want, got any) string {
	msg := fmt.Sprintf("%s: %s %s, %s %s", orRoot(path), w.want, show(want), w.got, show(got))
	ws, ok1 := want.(string)
	gs, ok2 := got.(string)
	if ok1 && ok2 {
		if q, err := resource.ParseQuantity(ws); err == nil && q.String() == gs {
			msg += fmt.Sprintf(" (the canonical form of the quantity %s; write %s so git and the cluster agree)", ws, gs)
		}
	}
	return msg
}

// subset reports every value in want that got holds differently. Fields the
// server adds (defaults, status, metadata) are fine; fields it dropped or
// changed are not (a quantity it canonicalised, a value it pruned).
func subset(want, got any, path string, w words) []string {
	if want == nil {
		return nil // null in a manifest means "unset"
	}
	switch wv := want.(type) {
	case object:
		g, ok := got.(object)
		if !ok {
			if got == nil && len(wv) == 0 {
				return nil
			}
			return []string{w.differ(path, want, got)}
		}
		keys := make([]string, 0, len(wv))
		for k := range wv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			gv, present := g[k]
			if !present {
				if empty(wv[k]) {
					continue
				}
				out = append(out, w.differ(path+"."+k, wv[k], nil))
				continue
			}
			out = append(out, subset(wv[k], gv, path+"."+k, w)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(wv) {
			if got == nil && len(wv) == 0 {
				return nil
			}
			return []string{w.differ(path, want, got)}
		}
		var out []string
		for i := range wv {
			out = append(out, subset(wv[i], g[i], fmt.Sprintf("%s[%d]", path, i), w)...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{w.differ(path, want, got)}
		}
		return nil
	}
}

func orRoot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func cmdSame(fa, fb, na, nb string) ([]string, error) {
	a, err := readObjects(fa)
	if err != nil {
		return nil, err
	}
	b, err := readObjects(fb)
	if err != nil {
		return nil, err
	}
	ma, mb := map[string]object{}, map[string]object{}
	var problems []string
	for _, o := range a {
		if _, dup := ma[id(o)]; dup {
			problems = append(problems, fmt.Sprintf("%s: twice in %s", id(o), na))
		}
		ma[id(o)] = o
	}
	for _, o := range b {
		if _, dup := mb[id(o)]; dup {
			problems = append(problems, fmt.Sprintf("%s: twice in %s", id(o), nb))
		}
		mb[id(o)] = o
	}
	var ids []string
	for k := range ma {
		ids = append(ids, k)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			ids = append(ids, k)
		}
	}
	sort.Strings(ids)
	for _, k := range ids {
		oa, inA := ma[k]
		ob, inB := mb[k]
		switch {
		case !inA:
			problems = append(problems, fmt.Sprintf("%s: only in %s", k, nb))
		case !inB:
			problems = append(problems, fmt.Sprintf("%s: only in %s", k, na))
		default:
			var d []string
			diffPaths(oa, ob, "", &d)
			for _, line := range d {
				problems = append(problems, fmt.Sprintf("%s: %s (%s -> %s)", k, line, na, nb))
			}
		}
	}
	return problems, nil
}

func cmdChanged(beforeFile, afterFile string) ([]string, error) {
	before, err := readObjects(beforeFile)
	if err != nil {
		return nil, err
	}
	after, err := readObjects(afterFile)
	if err != nil {
		return nil, err
	}
	am := map[string]object{}
	for _, o := range after {
		am[id(o)] = o
	}
	var problems []string
	for _, b := range before {
		a, ok := am[id(b)]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: gone after applying again", id(b)))
			continue
		}
		bm, _ := b["metadata"].(object)
		amd, _ := a["metadata"].(object)
		changed := false
		for _, k := range []string{"uid", "resourceVersion", "generation"} {
			if !reflect.DeepEqual(bm[k], amd[k]) {
				problems = append(problems, fmt.Sprintf("%s: metadata.%s %s -> %s", id(b), k, show(bm[k]), show(amd[k])))
				changed = true
			}
		}
		if !changed {
			continue
		}
		var diffs []string
		diffPaths(b, a, "", &diffs)
		for _, d := range diffs {
			if strings.HasPrefix(d, ".metadata.resourceVersion") || strings.HasPrefix(d, ".metadata.generation") {
				continue
			}
			problems = append(problems, fmt.Sprintf("%s:   %s", id(b), d))
		}
	}
	return problems, nil
}

// diffPaths lists every path where a and b differ; null, {} and [] count
// as no value.
func diffPaths(a, b any, path string, out *[]string) {
	if empty(a) && empty(b) {
		return
	}
	am, aok := a.(object)
	bm, bok := b.(object)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			diffPaths(am[k], bm[k], path+"."+k, out)
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			diffPaths(al[i], bl[i], fmt.Sprintf("%s[%d]", path, i), out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, fmt.Sprintf("%s: %s -> %s", orRoot(path), show(a), show(b)))
	}
}
