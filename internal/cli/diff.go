package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/golemtrust/meshc/internal/diff"
)

func bindDiff(fs *pflag.FlagSet) func(*env, []string) int {
	var clusters, base, format string
	var exitCode bool
	var only []string
	fs.StringVar(&clusters, "clusters", "clusters", "folder with mesh.{yaml,cue} and one file per cluster")
	fs.StringVar(&base, "base", "", "git revision to compare with (default: the merge base of HEAD with origin/HEAD, else with main, else HEAD)")
	fs.StringVar(&format, "format", "text", "output format: text, markdown (a pull-request comment) or json")
	fs.BoolVar(&exitCode, "exit-code", false, "exit 1 when anything changed")
	fs.StringArrayVar(&only, "cluster", nil, "compare only this cluster (repeatable); the whole working tree is still validated")
	return func(e *env, args []string) int {
		if !noArgs(e, "diff", args) {
			return ExitUsage
		}
		var write func(io.Writer, *diff.Result) error
		switch format {
		case "text":
			write = diff.Text
		case "json":
			write = diff.JSON
		case "markdown":
			write = func(w io.Writer, r *diff.Result) error {
				_, err := io.WriteString(w, diff.Markdown(r, 0))
				return err
			}
		default:
			fmt.Fprintf(e.stderr, "meshc diff: --format %q: use text, markdown or json\n", format)
			return ExitUsage
		}
		res, diags, err := diff.Run(diff.Options{ClustersDir: clusters, Base: base, Clusters: only})
		if !e.report(diags, false) {
			return ExitInvalid
		}
		if err != nil {
			e.fail("diff", err)
			var usage *diff.UsageError
			if errors.As(err, &usage) {
				return ExitUsage
			}
			return ExitInvalid
		}
		if len(res.BaseProblems) > 0 {
			fmt.Fprintf(e.stderr, "meshc diff: the mesh at %s is invalid; comparing with nothing on that side:\n", res.BaseLabel())
			fmt.Fprint(e.stderr, res.BaseProblems.String())
		}
		if err := write(e.stdout, res); err != nil {
			e.fail("diff", err)
			return ExitInvalid
		}
		if exitCode && !res.Empty() {
			return ExitInvalid
		}
		return ExitOK
	}
}
