// Package cli is meshc's command line: a small dispatcher over pflag, one
// options struct per command binding its own flags, no package-level flag
// state. Main returns the exit status, so tests run it without a process.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/golemtrust/meshc/internal/version"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitInvalid = 1 // invalid input or stale output
	ExitUsage   = 2
)

// command is one subcommand.
type command struct {
	name    string
	args    string // usage after the flags
	summary string
	// bind registers the command's flags and returns what runs it.
	bind func(fs *pflag.FlagSet) func(env *env, args []string) int
}

// env is what a command writes to.
type env struct {
	stdout, stderr io.Writer
}

func commands() []command {
	return []command{
		{name: "build", summary: "validate the mesh and write overlays/ and golden/", bind: bindBuild},
		{name: "validate", summary: "validate the mesh; write nothing", bind: bindValidate},
		{name: "check", summary: "fail with a diff when overlays/ or golden/ are not what build would write", bind: bindCheck},
		{name: "render", args: "CLUSTER", summary: "print one cluster's rendered manifests", bind: bindRender},
		{name: "diff", summary: "compare what every cluster receives at a git revision and in the working tree, with risk flags", bind: bindDiff},
		{name: "quota", args: "[CLUSTER]", summary: "report each namespace's quota and the share its sidecars take", bind: bindQuota},
		{name: "upgrade", args: "plan|next CLUSTER --to REV", summary: "plan or take the next step of a cluster's canary upgrade", bind: bindUpgrade},
		{name: "schema", summary: "write the JSON Schemas of the mesh and cluster files, for editors", bind: bindSchema},
		{name: "version", summary: "print meshc's version", bind: bindVersion},
	}
}

// Main runs meshc with args (without the program name) and returns the
// exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		fs := pflag.NewFlagSet("meshc "+c.name, pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.SortFlags = false
		run := c.bind(fs)
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, pflag.ErrHelp) {
				commandUsage(stdout, c, fs)
				return ExitOK
			}
			fmt.Fprintf(stderr, "meshc %s: %v\n", c.name, err)
			commandUsage(stderr, c, fs)
			return ExitUsage
		}
		return run(e, fs.Args())
	}
	fmt.Fprintf(stderr, "meshc: unknown command %q\n", args[0])
	usage(stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "meshc compiles a multi-cluster Istio mesh into kustomize overlays for GitOps.")
	fmt.Fprintln(w, "\nUsage:\n  meshc <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'meshc <command> --help' for a command's flags.")
}

func commandUsage(w io.Writer, c command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "%s.\n\nUsage:\n  meshc %s [flags]", capitalize(c.summary), c.name)
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintf(w, "\n\nFlags:\n%s", fs.FlagUsages())
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func bindVersion(fs *pflag.FlagSet) func(*env, []string) int {
	return func(e *env, args []string) int {
		if len(args) > 0 {
			fmt.Fprintf(e.stderr, "meshc version: takes no arguments\n")
			return ExitUsage
		}
		fmt.Fprintln(e.stdout, version.Read())
		return ExitOK
	}
}
