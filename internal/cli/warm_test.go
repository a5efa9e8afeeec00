package cli

import (
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"

	"github.com/golemtrust/meshc/internal/cache"
	"github.com/golemtrust/meshc/internal/state"
	"github.com/golemtrust/meshc/internal/warm"
)

// TestWarmReadsTheCommandLineAsTheCLI: for every spelling of a build or
// check command line, the prefetch internal/warm starts from it is the one
// the build those options make takes (its cache file and output folders
// are the build's), and for every other command there is none. A
// prefetch the build does not take only costs time; this keeps it from
// costing it on every run.
func TestWarmReadsTheCommandLineAsTheCLI(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv(state.EnvVar, filepath.Join(tmp, "state"))
	o, g := filepath.Join(tmp, "o"), filepath.Join(tmp, "g")
	lines := [][]string{
		{},
		{"--out", o, "--golden", g},
		{"--out=" + o, "--golden=" + g, "--schema", ""},
		{"--schema", filepath.Join(tmp, "s"), "--cluster", "a", "--cluster=b", "--strict"},
		{"--clusters", filepath.Join(tmp, "c"), "--out", "rel/o"},
	}
	for _, cmd := range []string{"build", "check"} {
		for _, line := range lines {
			fs, in, out := cliFlags(cmd)
			if err := fs.Parse(line); err != nil {
				t.Fatalf("%s %q: %v", cmd, line, err)
			}
			opts := compileOptions(*in, *out)
			r := warm.Start(append([]string{cmd}, line...))
			if r.Take(opts.State.Cache(), cache.Roots(opts.OutDir, opts.GoldenDir, opts.SchemaDir)) == nil {
				t.Errorf("meshc %s %q: the build does not take the prefetch", cmd, line)
			}
		}
	}
	for _, args := range [][]string{nil, {"validate"}, {"render", "a"}, {"quota"}, {"diff"}, {"version"}, {"build", "--no-such-flag"}, {"build", "extra"}} {
		if r := warm.Start(args); r != nil {
			t.Errorf("meshc %q: a prefetch was started", args)
		}
	}
}

// TestWarmAgreesWithPflag reads generated command lines both ways: with
// the CLI's pflag flag set, and with internal/warm's standard-library one
// over the same definitions (internal/flags). Wherever the CLI accepts a
// build or check line, warm starts the prefetch that build takes. Where
// the CLI refuses one, warm may still start one (the standard library
// accepts -out as well as --out): the command fails before any build, and
// the prefetch only cost the second core's time.
func TestWarmAgreesWithPflag(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv(state.EnvVar, filepath.Join(tmp, "state"))
	tokens := []string{
		"--out", "--out=o2", "--golden", "--golden=", "--schema", "--schema=s", "--cluster", "--cluster=c",
		"--clusters", "--strict", "--strict=false", "--strict=true", "-out", "-o", "--", "-", "-h", "--help",
		"--no-such", "o1", "g1", "", "=", "--out=--golden", "---out", "-strict",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for range 20000 {
		line := make([]string, rng.IntN(7))
		for i := range line {
			line[i] = tokens[rng.IntN(len(tokens))]
		}
		cmd := []string{"build", "check"}[rng.IntN(2)]
		fs, in, out := cliFlags(cmd)
		r := warm.Start(append([]string{cmd}, line...))
		if fs.Parse(line) != nil || fs.NArg() > 0 {
			continue // the CLI refuses it
		}
		accepted++
		opts := compileOptions(*in, *out)
		if r.Take(opts.State.Cache(), cache.Roots(opts.OutDir, opts.GoldenDir, opts.SchemaDir)) == nil {
			t.Errorf("meshc %s %q: the CLI accepts it, but the build does not take the prefetch", cmd, line)
		}
	}
	if accepted < 1000 {
		t.Fatalf("only %d of the generated lines are ones the CLI accepts: the test checks too little", accepted)
	}
}

// cliFlags is the flag set build and check parse their command line with.
func cliFlags(cmd string) (*pflag.FlagSet, *inputFlags, *outputFlags) {
	fs := pflag.NewFlagSet(cmd, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var in inputFlags
	var out outputFlags
	in.Bind(fs)
	out.Bind(fs, true)
	return fs, &in, &out
}
