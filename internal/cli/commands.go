package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/golemtrust/meshc/internal/build"
	"github.com/golemtrust/meshc/internal/diag"
	"github.com/golemtrust/meshc/internal/emit"
	"github.com/golemtrust/meshc/internal/flags"
	"github.com/golemtrust/meshc/internal/mesh"
	"github.com/golemtrust/meshc/internal/quota"
	"github.com/golemtrust/meshc/internal/state"
	"github.com/golemtrust/meshc/internal/warm"
)

// The shared flags, defined once for the CLI and the prefetch (internal/warm).
type (
	inputFlags  = flags.Input
	outputFlags = flags.Output
)

// validated loads and validates the mesh and prints diagnostics. Under
// --strict warnings are reported, and fail, as errors.
func validated(e *env, in inputFlags, opts build.Options) (*mesh.Mesh, bool) {
	opts.ClustersDir = in.Clusters
	m, diags := build.Validate(opts)
	if !e.report(diags, in.Strict) || m == nil {
		return nil, false
	}
	return m, true
}

// report prints diagnostics, warnings as errors under --strict, and says
// whether the run may go on.
func (e *env) report(diags diag.List, strict bool) bool {
	if strict {
		for i := range diags {
			diags[i].Severity = diag.Error
		}
	}
	fmt.Fprint(e.stderr, diags.String())
	return !diags.Failed(strict)
}

// fail reports an error that is not about the input, one line per
// problem, each prefixed with the command.
func (e *env) fail(cmd string, err error) {
	prefix := "meshc: "
	if cmd != "" {
		prefix = "meshc " + cmd + ": "
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			fmt.Fprintf(e.stderr, "%s%s\n", prefix, line)
		}
	}
}

func noArgs(e *env, cmd string, args []string) bool {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "meshc %s: unexpected argument %q; see 'meshc %s --help'\n", cmd, args[0], cmd)
		return false
	}
	return true
}

func bindValidate(fs *pflag.FlagSet) func(*env, []string) int {
	var in inputFlags
	in.Bind(fs)
	return func(e *env, args []string) int {
		if !noArgs(e, "validate", args) {
			return ExitUsage
		}
		m, ok := validated(e, in, build.Options{})
		if !ok {
			return ExitInvalid
		}
		fmt.Fprintf(e.stdout, "mesh %s: %d clusters valid\n", m.ID, len(m.Clusters))
		return ExitOK
	}
}

// compileOptions are the build options of `build` and `check`.
func compileOptions(in inputFlags, out outputFlags) build.Options {
	return build.Options{ClustersDir: in.Clusters, OutDir: out.Out, GoldenDir: out.Golden, SchemaDir: out.Schema, Clusters: out.Only,
		State: state.For(out.Out, out.Golden)}
}

// compiled validates and compiles, reusing the cache for clusters whose
// inputs and outputs are unchanged; it prints problems and returns nil on
// failure. Under --strict warnings are reported, and fail, as errors.
func compiled(e *env, in inputFlags, out outputFlags) (*build.Output, int) {
	opts := compileOptions(in, out)
	opts.Warm = warm.Started() // the cache read ahead from the same command line, when it was
	o, diags, err := build.Plan(opts)
	ok := e.report(diags, in.Strict)
	if err != nil {
		e.fail("", err)
		return nil, ExitInvalid
	}
	if !ok || o == nil {
		return nil, ExitInvalid
	}
	return o, ExitOK
}

func bindBuild(fs *pflag.FlagSet) func(*env, []string) int {
	var in inputFlags
	var out outputFlags
	in.Bind(fs)
	out.Bind(fs, true)
	return func(e *env, args []string) int {
		if !noArgs(e, "build", args) {
			return ExitUsage
		}
		// The lock is taken while the mesh is compiled: its file is
		// created on every build (and removed after), a millisecond on
		// this file system that a rebuild would otherwise wait for.
		type lockResult struct {
			unlock func()
			err    error
		}
		locked := make(chan lockResult, 1)
		go func() {
			unlock, err := emit.Lock(state.For(out.Out, out.Golden).Lock, out.Out)
			locked <- lockResult{unlock, err}
		}()
		o, code := compiled(e, in, out)
		lock := <-locked
		if lock.err == nil {
			defer lock.unlock()
		}
		if o == nil {
			return code
		}
		if lock.err != nil {
			e.fail("build", lock.err)
			return ExitInvalid
		}
		o.EncodeCacheAhead() // while the output is written
		sum, err := emit.Apply(o.Trees()...)
		if err != nil {
			e.fail("build", err)
			return ExitInvalid
		}
		if err := o.SaveCache(); err != nil {
			e.fail("build", err) // the output is written; only the next run's shortcut is lost
		}
		fmt.Fprintln(e.stdout, buildSummary(o.Built(), o.Reused, sum))
		return ExitOK
	}
}

func bindCheck(fs *pflag.FlagSet) func(*env, []string) int {
	var in inputFlags
	var out outputFlags
	in.Bind(fs)
	out.Bind(fs, true)
	return func(e *env, args []string) int {
		if !noArgs(e, "check", args) {
			return ExitUsage
		}
		o, code := compiled(e, in, out)
		if o == nil {
			return code
		}
		d, err := emit.Check(o.Trees()...)
		if err != nil {
			e.fail("check", err)
			return ExitInvalid
		}
		if d != "" {
			fmt.Fprint(e.stdout, d)
			fmt.Fprintf(e.stderr, "meshc check: %s or %s is stale; run 'meshc build' and commit the result\n", out.Out, out.Golden)
			return ExitInvalid
		}
		fmt.Fprintf(e.stdout, "%s and %s are up to date\n", out.Out, out.Golden)
		return ExitOK
	}
}

func bindRender(fs *pflag.FlagSet) func(*env, []string) int {
	var in inputFlags
	var out outputFlags
	in.Bind(fs)
	out.Bind(fs, false)
	return func(e *env, args []string) int {
		if len(args) != 1 {
			fmt.Fprintf(e.stderr, "meshc render: takes exactly one CLUSTER; see 'meshc render --help'\n")
			return ExitUsage
		}
		opts := build.Options{ClustersDir: in.Clusters, OutDir: out.Out, Clusters: args}
		m, ok := validated(e, in, opts)
		if !ok {
			return ExitInvalid
		}
		o, err := build.Compile(m, opts)
		if err != nil {
			e.fail("render", err)
			return ExitInvalid
		}
		e.stdout.Write(o.Golden.Files[args[0]+".yaml"])
		return ExitOK
	}
}

func bindQuota(fs *pflag.FlagSet) func(*env, []string) int {
	var in inputFlags
	in.Bind(fs)
	return func(e *env, args []string) int {
		if len(args) > 1 {
			fmt.Fprintf(e.stderr, "meshc quota: takes at most one CLUSTER; see 'meshc quota --help'\n")
			return ExitUsage
		}
		m, ok := validated(e, in, build.Options{})
		if !ok {
			return ExitInvalid
		}
		if len(args) == 1 {
			names := build.ClusterNames(m)
			found := false
			for _, n := range names {
				found = found || n == args[0]
			}
			if !found {
				list := names[0]
				for _, n := range names[1:] {
					list += ", " + n
				}
				fmt.Fprintf(e.stderr, "meshc quota: no cluster %q; the mesh has %s\n", args[0], list)
				return ExitInvalid
			}
		}
		if err := quota.Table(e.stdout, quota.Report(m, args...)); err != nil {
			e.fail("quota", err)
			return ExitInvalid
		}
		return ExitOK
	}
}

// buildSummary is build's one line: what it compiled and what it did to
// the files, e.g. "meshc: 3 clusters (1 built, 2 reused); 4 files
// written, 37 unchanged, 0 removed".
func buildSummary(built, reused int, sum emit.Summary) string {
	return fmt.Sprintf("meshc: %s (%d built, %d reused); %s written, %d unchanged, %d removed",
		plural(built+reused, "cluster"), built, reused, plural(sum.Written, "file"), sum.Unchanged, sum.Removed)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
