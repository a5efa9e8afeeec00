// Package source gives meshc's loader the files of a git revision as an
// fs.FS, so the one pipeline that compiles a folder on disk (os.DirFS)
// compiles a commit too.
//
// It runs the git command, as a user's own git does: `git ls-tree` lists a
// revision's tree once, and one long-lived `git cat-file --batch` reads the
// blobs the loader asks for. Both read only git's object database: the
// working tree and the index are never read or written, so a diff cannot
// disturb a half-staged commit.
package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Git runs git in a folder of a repository's work tree.
type Git struct {
	Dir string
}

// run runs one git command and returns its standard output; the error
// carries git's own message.
func (g Git) run(args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", g.Dir}, args...)...)
	// Reading commands never need a lock; this keeps git from even
	// refreshing the index in passing.
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg := strings.TrimSpace(stderr.String())
			msg = strings.TrimPrefix(msg, "fatal: ")
			if msg == "" {
				msg = fmt.Sprintf("exit status %d", ee.ExitCode())
			}
			return nil, fmt.Errorf("git %s: %s", args[0], msg)
		}
		return nil, fmt.Errorf("cannot run git (meshc diff reads revisions with it; install git): %w", err)
	}
	return out, nil
}

// Toplevel returns the root of the work tree that holds g.Dir.
func (g Git) Toplevel() (string, error) {
	out, err := g.run("rev-parse", "--show-toplevel")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// ErrNoRevision is returned by Resolve for a name that is not a commit.
var ErrNoRevision = errors.New("no such revision")

// Resolve returns the commit id that rev names.
func (g Git) Resolve(rev string) (string, error) {
	out, err := g.run("rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		if strings.HasPrefix(err.Error(), "git rev-parse: exit status") {
			return "", ErrNoRevision
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// DefaultBase picks the base a pull request is reviewed against: the
// merge base of HEAD with the remote's default branch (origin/HEAD), else
// with main, else HEAD itself. It returns how it named the base and the
// commit.
func (g Git) DefaultBase() (name, commit string, err error) {
	head, err := g.Resolve("HEAD")
	if err != nil {
		if errors.Is(err, ErrNoRevision) {
			return "", "", errors.New("the repository has no commit yet: commit the mesh first, or pass --base")
		}
		return "", "", err
	}
	for _, branch := range []string{"refs/remotes/origin/HEAD", "refs/heads/main"} {
		if _, err := g.Resolve(branch); err != nil {
			continue
		}
		out, err := g.run("merge-base", "HEAD", branch)
		if err != nil {
			continue // unrelated histories: try the next
		}
		short := strings.TrimPrefix(strings.TrimPrefix(branch, "refs/remotes/"), "refs/heads/")
		return "merge-base(HEAD, " + short + ")", strings.TrimSpace(string(out)), nil
	}
	return "HEAD", head, nil
}

// entry is one file or folder of a revision.
type entry struct {
	name string // base name
	mode fs.FileMode
	oid  string
	size int64
}

func (e *entry) Name() string               { return e.name }
func (e *entry) Size() int64                { return e.size }
func (e *entry) Mode() fs.FileMode          { return e.mode }
func (e *entry) ModTime() time.Time         { return time.Time{} }
func (e *entry) IsDir() bool                { return e.mode.IsDir() }
func (e *entry) Sys() any                   { return nil }
func (e *entry) Type() fs.FileMode          { return e.mode.Type() }
func (e *entry) Info() (fs.FileInfo, error) { return e, nil }

// Revision is one folder of a commit's tree as an fs.FS (also ReadDirFS,
// ReadFileFS and StatFS). It is safe for concurrent use; Close stops the
// git process that reads blobs.
type Revision struct {
	git    Git
	commit string
	files  map[string]*entry   // by path below the folder; "." is the folder
	dirs   map[string][]*entry // a folder's entries, sorted by name

	mu  sync.Mutex
	cat *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// Open lists folder dir (slash-separated, relative to the work tree's
// root; "" or "." for the root) of commit. A folder the commit does not
// have yields an fs.FS in which "." does not exist.
func (g Git) Open(commit, dir string) (*Revision, error) {
	dir = path.Clean("/" + dir)[1:]
	args := []string{"ls-tree", "-r", "-t", "-z", "--long", "--full-tree", commit}
	if dir != "" {
		args = append(args, "--", dir+"/")
	}
	out, err := g.run(args...)
	if err != nil {
		return nil, err
	}
	r := &Revision{git: g, commit: commit, files: map[string]*entry{}, dirs: map[string][]*entry{}}
	if dir == "" {
		r.files["."] = &entry{name: ".", mode: fs.ModeDir | 0o555}
	}
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		e, full, err := parseTreeLine(string(rec))
		if err != nil {
			return nil, err
		}
		rel := full
		if dir != "" {
			if full == dir {
				rel = "."
			} else if rel = strings.TrimPrefix(full, dir+"/"); rel == full {
				continue
			}
		}
		e.name = path.Base(rel)
		r.files[rel] = e
		if rel != "." {
			r.dirs[path.Dir(rel)] = append(r.dirs[path.Dir(rel)], e)
		}
	}
	if dir != "" && len(r.dirs) > 0 {
		// ls-tree lists what is under dir/, not dir itself.
		r.files["."] = &entry{name: path.Base(dir), mode: fs.ModeDir | 0o555}
	}
	for _, list := range r.dirs {
		slices.SortFunc(list, func(a, b *entry) int { return strings.Compare(a.name, b.name) })
	}
	return r, nil
}

// parseTreeLine reads "<mode> <type> <oid> <size>\t<path>".
func parseTreeLine(rec string) (*entry, string, error) {
	meta, full, ok := strings.Cut(rec, "\t")
	f := strings.Fields(meta)
	if !ok || len(f) != 4 {
		return nil, "", fmt.Errorf("git ls-tree: cannot read %q", rec)
	}
	e := &entry{oid: f[2]}
	switch f[1] {
	case "tree":
		e.mode = fs.ModeDir | 0o555
	case "blob":
		switch f[0] {
		case "120000":
			e.mode = fs.ModeSymlink | 0o777
		case "100755":
			e.mode = 0o555
		default:
			e.mode = 0o444
		}
		n, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("git ls-tree: cannot read the size in %q", rec)
		}
		e.size = n
	default: // a submodule's commit: nothing meshc can read
		e.mode = fs.ModeIrregular
	}
	return e, full, nil
}

// Commit is the commit the revision was read from.
func (r *Revision) Commit() string { return r.commit }

func (r *Revision) lookup(op, name string) (*entry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	e, ok := r.files[name]
	if !ok {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return e, nil
}

// Stat implements fs.StatFS. Symbolic links are reported as such, not
// followed: a revision's link may point anywhere, even out of the tree.
func (r *Revision) Stat(name string) (fs.FileInfo, error) {
	return r.lookup("stat", name)
}

// ReadDir implements fs.ReadDirFS.
func (r *Revision) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := r.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !e.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	list := r.dirs[name]
	out := make([]fs.DirEntry, len(list))
	for i, e := range list {
		out[i] = e
	}
	return out, nil
}

// ReadFile implements fs.ReadFileFS.
func (r *Revision) ReadFile(name string) ([]byte, error) {
	e, err := r.lookup("read", name)
	if err != nil {
		return nil, err
	}
	if !e.mode.IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("not a regular file")}
	}
	data, err := r.blob(e.oid, e.size)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// Open implements fs.FS.
func (r *Revision) Open(name string) (fs.File, error) {
	e, err := r.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if e.IsDir() {
		entries, _ := r.ReadDir(name)
		return &dirFile{entry: e, entries: entries}, nil
	}
	data, err := r.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &file{entry: e, Reader: bytes.NewReader(data)}, nil
}

// blob reads one blob through the cat-file process, starting it on first
// use.
func (r *Revision) blob(oid string, size int64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cat == nil {
		cmd := exec.Command("git", "-C", r.git.Dir, "cat-file", "--batch")
		cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("cannot run git: %w", err)
		}
		r.cat, r.in, r.out = cmd, in, bufio.NewReader(out)
	}
	if _, err := io.WriteString(r.in, oid+"\n"); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	header, err := r.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	f := strings.Fields(header)
	if len(f) != 3 || f[1] != "blob" {
		return nil, fmt.Errorf("git cat-file: %s", strings.TrimSpace(header))
	}
	n, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || n != size {
		return nil, fmt.Errorf("git cat-file: unexpected header %q", strings.TrimSpace(header))
	}
	data := make([]byte, n+1) // the content and git's closing newline
	if _, err := io.ReadFull(r.out, data); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	return data[:n], nil
}

// Close stops the process that reads blobs.
func (r *Revision) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cat == nil {
		return nil
	}
	r.in.Close()
	err := r.cat.Wait()
	r.cat = nil
	return err
}

type file struct {
	*entry
	*bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.entry, nil }
func (f *file) Close() error               { return nil }

type dirFile struct {
	*entry
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.entry, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
