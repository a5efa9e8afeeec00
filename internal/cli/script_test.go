package cli_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/golemtrust/meshc/internal/cli"
	"github.com/golemtrust/meshc/internal/state"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"meshc": func() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// stateRoot is the folder a script's meshc keeps its state under
// ($MESHC_CACHE_DIR): outside the script's work folder, as the user's
// cache folder is outside their repository.
func stateRoot(env *testscript.Env) error {
	dir, err := os.MkdirTemp("", "meshc-state-")
	if err != nil {
		return err
	}
	env.Defer(func() { os.RemoveAll(dir) })
	env.Setenv(state.EnvVar, dir)
	return nil
}

// TestScripts runs the CLI scripts in testdata/script: each shows input
// files, the command and its expected output side by side. MESHC_UPDATE=1
// rewrites the expected output (read the diff before committing it).
func TestScripts(t *testing.T) {
	example, err := filepath.Abs("../../clusters")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("MESHC_UPDATE") != "",
		Setup:               stateRoot,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// example copies the repository's example mesh to ./clusters.
			"example": func(ts *testscript.TestScript, neg bool, args []string) {
				dst := ts.MkAbs("clusters")
				ts.Check(os.MkdirAll(dst, 0o755))
				entries, err := os.ReadDir(example)
				ts.Check(err)
				for _, e := range entries {
					data, err := os.ReadFile(filepath.Join(example, e.Name()))
					ts.Check(err)
					ts.Check(os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644))
				}
			},
			// exits N CMD ARGS... runs a command and checks its exact
			// exit status; its output is then checked as after exec.
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exits N COMMAND [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				got := 0
				if err := ts.Exec(args[1], args[2:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("%v", err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("exit status %d, want %d", got, want)
				}
			},
			// statefiles NAME... requires meshc's state (under
			// $MESHC_CACHE_DIR, one folder per output) to be exactly these
			// files, by name, across outputs; "statefiles" alone: none.
			// "statefiles -corrupt NAME..." also overwrites each build
			// cache with junk.
			"statefiles": func(ts *testscript.TestScript, neg bool, args []string) {
				corrupt := len(args) > 0 && args[0] == "-corrupt"
				if corrupt {
					args = args[1:]
				}
				root := ts.Getenv(state.EnvVar)
				var names []string
				ts.Check(filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					names = append(names, d.Name())
					if corrupt && d.Name() == "cache" {
						return os.WriteFile(p, []byte("junk"), 0o644)
					}
					return nil
				}))
				slices.Sort(names)
				slices.Sort(args)
				if !slices.Equal(names, args) != neg {
					ts.Fatalf("meshc's state holds %q, want %q", names, args)
				}
			},
			// killedbuild leaves in every state folder under
			// $MESHC_CACHE_DIR what a build killed while writing leaves:
			// its lock file (the OS lock died with the process) and the
			// writing marker of each output tree.
			"killedbuild": func(ts *testscript.TestScript, neg bool, args []string) {
				root := ts.Getenv(state.EnvVar)
				entries, err := os.ReadDir(root)
				ts.Check(err)
				for _, e := range entries {
					for _, name := range []string{"lock", "writing-overlays", "writing-golden", "writing-schema"} {
						ts.Check(os.WriteFile(filepath.Join(root, e.Name(), name), nil, 0o644))
					}
				}
			},
			// append FILE TEXT appends TEXT and a newline to FILE (Go
			// escapes such as \n in TEXT are not interpreted).
			"append": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: append FILE TEXT")
				}
				f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_APPEND|os.O_WRONLY, 0)
				ts.Check(err)
				_, err = f.WriteString(args[1] + "\n")
				ts.Check(err)
				ts.Check(f.Close())
			},
			// snapshot records a listing of every file under a folder with
			// its content hash, to prove later that nothing changed.
			"snapshot": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: snapshot DIR FILE")
				}
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(snapshot(ts, ts.MkAbs(args[0]))), 0o644))
			},
		},
	})
}
