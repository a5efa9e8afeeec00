package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"cuelang.org/go/cue/ast"
	"github.com/spf13/pflag"

	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/edit"
	"github.com/golemtrust/meshc/internal/load"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/upgrade"
	"github.com/golemtrust/meshc/internal/validate"
)

// upgradeCommands are the subcommands of meshc upgrade.
func upgradeCommands() []command {
	return []command{
		{name: "upgrade plan", args: "CLUSTER --to REV", summary: "print the steps of a cluster's canary upgrade to a revision, one commit each", bind: bindUpgradePlan},
		{name: "upgrade next", args: "CLUSTER --to REV", summary: "apply the first step of that plan to the cluster file and print it", bind: bindUpgradeNext},
	}
}

// bindUpgrade takes the flags after the subcommand's name, which has flags
// of its own.
func bindUpgrade(fs *pflag.FlagSet) func(*env, []string) int {
	fs.SetInterspersed(false)
	return func(e *env, args []string) int {
		if len(args) == 0 {
			upgradeUsage(e.stderr)
			return ExitUsage
		}
		for _, c := range upgradeCommands() {
			if c.name != "upgrade "+args[0] {
				continue
			}
			sub := pflag.NewFlagSet("meshc "+c.name, pflag.ContinueOnError)
			sub.SetOutput(io.Discard)
			sub.SortFlags = false
			run := c.bind(sub)
			if err := sub.Parse(args[1:]); err != nil {
				if errors.Is(err, pflag.ErrHelp) {
					commandUsage(e.stdout, c, sub)
					return ExitOK
				}
				fmt.Fprintf(e.stderr, "meshc %s: %v\n", c.name, err)
				commandUsage(e.stderr, c, sub)
				return ExitUsage
			}
			return run(e, sub.Args())
		}
		fmt.Fprintf(e.stderr, "meshc upgrade: unknown command %q\n", args[0])
		upgradeUsage(e.stderr)
		return ExitUsage
	}
}

func upgradeUsage(w io.Writer) {
	fmt.Fprintln(w, "Walk a cluster's control plane to another revision as Istio's canary upgrade does: install, migrate, promote, retire.")
	fmt.Fprintln(w, "\nUsage:\n  meshc upgrade <command> [flags] CLUSTER --to REV\n\nCommands:")
	for _, c := range upgradeCommands() {
		fmt.Fprintf(w, "  %-5s %s\n", strings.TrimPrefix(c.name, "upgrade "), c.summary)
	}
	fmt.Fprintln(w, "\nRun 'meshc upgrade <command> --help' for a command's flags.")
}

// upgradeFlags are the flags both subcommands take.
type upgradeFlags struct {
	in    inputFlags
	to    string
	order []string
}

func (f *upgradeFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.in.Clusters, "clusters", "clusters", "folder with mesh.{yaml,cue} and one file per cluster")
	fs.StringVar(&f.to, "to", "", "the revision to walk the cluster to (a key of the mesh's revisions)")
	fs.StringSliceVar(&f.order, "order", nil, "namespaces to migrate first, in this order (default: the cluster file's order)")
}

// upgradeInput is what both subcommands start from.
type upgradeInput struct {
	m       *mesh.Mesh
	cluster *mesh.Cluster
	file    *load.File
	plan    *upgrade.Plan
}

// planned validates the mesh, finds the cluster and its file, and plans.
func planned(e *env, cmd string, f *upgradeFlags, args []string) (*upgradeInput, int) {
	if len(args) != 1 {
		fmt.Fprintf(e.stderr, "meshc %s: takes exactly one CLUSTER; see 'meshc %s --help'\n", cmd, cmd)
		return nil, ExitUsage
	}
	if f.to == "" {
		fmt.Fprintf(e.stderr, "meshc %s: --to REV is required: the revision to walk the cluster to\n", cmd)
		return nil, ExitUsage
	}
	m, ok := validated(e, f.in, build.Options{})
	if !ok {
		return nil, ExitInvalid
	}
	in := &upgradeInput{m: m}
	for _, c := range m.Clusters {
		if c.Name == args[0] {
			in.cluster = c
		}
	}
	if in.cluster == nil {
		fmt.Fprintf(e.stderr, "meshc %s: no cluster %q; the mesh has %s\n", cmd, args[0], strings.Join(build.ClusterNames(m), ", "))
		return nil, ExitInvalid
	}
	file, err := clusterFile(f.in.Clusters, in.cluster.Name)
	if err != nil {
		e.fail(cmd, err)
		return nil, ExitInvalid
	}
	in.file = file
	plan, err := upgrade.Make(in.cluster, m.Revisions, f.to, upgrade.Options{
		Order:        f.order,
		FileOrder:    namespaceOrder(file.AST),
		MultiNetwork: m.MultiNetwork(),
	})
	if err != nil {
		e.fail(cmd, err)
		return nil, ExitInvalid
	}
	in.plan = plan
	return in, ExitOK
}

// clusterFile reads and parses the file of a cluster (validation has
// proved there is exactly one).
func clusterFile(dir, name string) (*load.File, error) {
	for _, ext := range load.Extensions {
		path := filepath.Join(dir, name+ext)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		f, diags := load.Parse(path, data)
		if f == nil {
			return nil, errors.New(diags.String())
		}
		return f, nil
	}
	return nil, fmt.Errorf("no file for cluster %s in %s", name, dir)
}

// namespaceOrder lists the namespaces in the order the file declares them.
func namespaceOrder(f *ast.File) []string {
	var out []string
	for _, d := range topFields(f.Decls) {
		if name, _, err := ast.LabelName(d.Label); err != nil || name != "namespaces" {
			continue
		}
		if s, ok := d.Value.(*ast.StructLit); ok {
			for _, n := range topFields(s.Elts) {
				if name, _, err := ast.LabelName(n.Label); err == nil {
					out = append(out, name)
				}
			}
		}
	}
	return out
}

// topFields lists the fields of a declaration list, looking into the one
// struct a JSON file is.
func topFields(decls []ast.Decl) []*ast.Field {
	var out []*ast.Field
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.Field:
			out = append(out, d)
		case *ast.EmbedDecl:
			if s, ok := d.Expr.(*ast.StructLit); ok {
				out = append(out, topFields(s.Elts)...)
			}
		}
	}
	return out
}

func bindUpgradePlan(fs *pflag.FlagSet) func(*env, []string) int {
	var f upgradeFlags
	var format string
	f.bind(fs)
	fs.StringVar(&format, "format", "text", "text or json")
	return func(e *env, args []string) int {
		if format != "text" && format != "json" {
			fmt.Fprintf(e.stderr, "meshc upgrade plan: --format %q: use text or json\n", format)
			return ExitUsage
		}
		in, code := planned(e, "upgrade plan", &f, args)
		if in == nil {
			return code
		}
		var err error
		if format == "json" {
			err = in.plan.WriteJSON(e.stdout)
		} else {
			err = in.plan.WriteText(e.stdout)
		}
		if err != nil {
			e.fail("upgrade plan", err)
			return ExitInvalid
		}
		return ExitOK
	}
}

func bindUpgradeNext(fs *pflag.FlagSet) func(*env, []string) int {
	var f upgradeFlags
	f.bind(fs)
	return func(e *env, args []string) int {
		const cmd = "upgrade next"
		in, code := planned(e, cmd, &f, args)
		if in == nil {
			return code
		}
		if in.plan.Done() {
			in.plan.WriteText(e.stdout)
			return ExitOK
		}
		step := &in.plan.Steps[0]
		changes := changesOf(step)
		ext := filepath.Ext(in.file.Path)
		if ext == ".cue" {
			fmt.Fprintf(e.stderr, "meshc %s: %s is CUE, which meshc does not rewrite; make the next step towards %s by hand:\n", cmd, in.file.Path, in.plan.To)
			step.WriteText(e.stderr)
			return ExitInvalid
		}
		out, err := edit.Apply(in.file.Data, ext == ".json", changes)
		if err != nil {
			e.fail(cmd, fmt.Errorf("%s: %w", in.file.Path, err))
			fmt.Fprintf(e.stderr, "meshc %s: make the next step towards %s by hand:\n", cmd, in.plan.To)
			step.WriteText(e.stderr)
			return ExitInvalid
		}
		if !validEdit(e, cmd, f.in.Clusters, in.file, out) {
			return ExitInvalid
		}
		if err := writeInPlace(in.file.Path, out); err != nil {
			e.fail(cmd, err)
			return ExitInvalid
		}
		left := len(in.plan.Steps) - 1
		fmt.Fprintf(e.stdout, "%s: applied the next step towards %s (%s left after it):\n", in.file.Path, in.plan.To, plural(left, "step"))
		step.WriteText(e.stdout)
		return ExitOK
	}
}

// changesOf turns a step's edits into file changes: a new canary goes
// after revision, a new previous after canary or revision, a new pin first
// in its namespace.
func changesOf(st *upgrade.Step) []edit.Change {
	out := make([]edit.Change, len(st.Edits))
	for i, e := range st.Edits {
		c := edit.Change{Path: e.Path, Value: e.Value}
		if len(e.Path) == 2 && e.Path[0] == "controlPlane" {
			switch e.Path[1] {
			case "canary":
				c.After = []string{"revision"}
			case "previous":
				c.After = []string{"canary", "revision"}
			}
		}
		out[i] = c
	}
	return out
}

// validEdit validates the mesh with the edited cluster file in place of
// the one on disk: a step that would not build is never written.
func validEdit(e *env, cmd, dir string, f *load.File, data []byte) bool {
	in, diags := load.Dir(dir)
	if diags.Failed(false) {
		fmt.Fprint(e.stderr, diags.String())
		return false
	}
	edited, diags := load.Parse(f.Path, data)
	if edited == nil {
		fmt.Fprint(e.stderr, diags.String())
		return false
	}
	replaced := false
	for i, c := range in.Clusters {
		if c.Path == f.Path {
			in.Clusters[i], replaced = edited, true
		}
	}
	if !replaced {
		e.fail(cmd, fmt.Errorf("%s is no longer among the cluster files of %s", f.Path, dir))
		return false
	}
	m, diags := validate.Mesh(in, validate.Options{})
	if m == nil || diags.Failed(false) {
		fmt.Fprintf(e.stderr, "meshc %s: the step would leave %s invalid, so it is not written:\n", cmd, f.Path)
		fmt.Fprint(e.stderr, diags.String())
		return false
	}
	return true
}

// writeInPlace replaces a file atomically, keeping its permissions.
func writeInPlace(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".meshc-edit-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
