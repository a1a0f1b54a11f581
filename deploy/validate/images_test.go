package validate

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	path   string
	stages []instructions.Stage
	args   []instructions.ArgCommand
}

func parseDockerfile(t *testing.T, rel string) dockerfile {
	t.Helper()
	f, err := os.Open(path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	for _, w := range res.Warnings {
		t.Errorf("%s: parser warning: %s", rel, w.Short)
	}
	stages, args, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return dockerfile{path: rel, stages: stages, args: args}
}

// commands returns the stage's commands of type T.
func commands[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if tc, ok := c.(T); ok {
			out = append(out, tc)
		}
	}
	return out
}

var dockerfiles = []string{"deploy/docker/Dockerfile", "deploy/docker/gateway.Dockerfile"}

// A pinned base is name:tag with a version in its tag (or a digest); never
// latest, never untagged.
var pinnedTag = regexp.MustCompile(`^[a-z0-9./_-]+:v?[0-9]+(\.[0-9]+)*[a-z0-9.+_-]*(@sha256:[0-9a-f]{64})?$`)

func TestDockerfiles(t *testing.T) {
	for _, rel := range dockerfiles {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			df := parseDockerfile(t, rel)
			if len(df.stages) < 2 {
				t.Fatalf("%s: %d stage(s); want a build stage and a small final one", rel, len(df.stages))
			}
			names := map[string]bool{}
			for _, s := range df.stages {
				base := s.BaseName
				switch {
				case names[strings.ToLower(base)] || base == "scratch":
				case strings.Contains(base, "latest"):
					t.Errorf("%s: FROM %s: no latest tags", rel, base)
				case !pinnedTag.MatchString(base):
					t.Errorf("%s: FROM %s: pin the base image by version (name:1.2.3)", rel, base)
				}
				if s.Name != "" {
					names[strings.ToLower(s.Name)] = true
				}
			}

			final := df.stages[len(df.stages)-1]
			users := commands[*instructions.UserCommand](final)
			if len(users) == 0 {
				t.Fatalf("%s: the final stage sets no USER (it would run as root)", rel)
			}
			user := users[len(users)-1].User
			if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
				t.Errorf("%s: the final stage runs as %q; want a non-root user", rel, user)
			}
			if !regexp.MustCompile(`^[1-9][0-9]*:[1-9][0-9]*$`).MatchString(user) {
				t.Errorf("%s: USER %q: use numeric UID:GID, which Kubernetes' runAsNonRoot can verify", rel, user)
			}

			entry := commands[*instructions.EntrypointCommand](final)
			if len(entry) != 1 || entry[0].PrependShell {
				t.Fatalf("%s: want one ENTRYPOINT in exec form (the image may have no shell)", rel)
			}
			copied := map[string]bool{}
			for _, c := range commands[*instructions.CopyCommand](final) {
				copied[c.DestPath] = true
			}
			if !copied[entry[0].CmdLine[0]] {
				t.Errorf("%s: ENTRYPOINT %s is not a file the final stage copies", rel, entry[0].CmdLine[0])
			}

			labels := map[string]string{}
			for _, l := range commands[*instructions.LabelCommand](final) {
				for _, kv := range l.Labels {
					labels[kv.Key] = kv.Value
				}
			}
			for _, key := range []string{"title", "version", "revision", "created", "source"} {
				if labels["org.opencontainers.image."+key] == "" {
					t.Errorf("%s: no org.opencontainers.image.%s label", rel, key)
				}
			}
			checkCopySources(t, df)
		})
	}
}

// checkCopySources: every file COPY takes from the build context (the
// repository's root) exists and is not left out by .dockerignore; ${SERVICE}
// stands for each service.
func checkCopySources(t *testing.T, df dockerfile) {
	t.Helper()
	f, err := os.Open(path(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	included := func(rel string) bool {
		excluded, err := ignore.MatchesOrParentMatches(rel)
		if err != nil {
			t.Fatal(err)
		}
		return !excluded
	}
	for _, s := range df.stages {
		for _, c := range commands[*instructions.CopyCommand](s) {
			if c.From != "" {
				continue
			}
			for _, src := range c.SourcePaths {
				expansions := []string{""}
				if strings.Contains(src, "${SERVICE}") {
					expansions = services
				}
				for _, service := range expansions {
					rel := filepath.Clean(strings.ReplaceAll(src, "${SERVICE}", service))
					info, err := os.Stat(path(t, rel))
					if err != nil {
						t.Errorf("%s: COPY %s: %v", df.path, src, err)
						continue
					}
					if !info.IsDir() {
						if !included(rel) {
							t.Errorf("%s: COPY %s: .dockerignore leaves it out of the build context", df.path, rel)
						}
						continue
					}
					any := false
					_ = filepath.WalkDir(path(t, rel), func(p string, d os.DirEntry, err error) error {
						if err == nil && !d.IsDir() {
							r, _ := filepath.Rel(root(t), p)
							any = any || included(r)
						}
						return nil
					})
					if !any {
						t.Errorf("%s: COPY %s: .dockerignore leaves all of it out of the build context", df.path, rel)
					}
				}
			}
		}
	}
}

// The service image's build stage runs deploy/docker/gobuild.sh, which the
// test runs too: the binaries below are built with the image's flags.
func TestServiceImageBuildsWithGobuildScript(t *testing.T) {
	df := parseDockerfile(t, "deploy/docker/Dockerfile")
	found := false
	for _, s := range df.stages[:len(df.stages)-1] {
		for _, r := range commands[*instructions.RunCommand](s) {
			found = found || strings.Contains(strings.Join(r.CmdLine, " "), "deploy/docker/gobuild.sh ${SERVICE}")
		}
	}
	if !found {
		t.Fatal("deploy/docker/Dockerfile does not build with deploy/docker/gobuild.sh ${SERVICE}: the test would not build what the image ships")
	}
	final := df.stages[len(df.stages)-1]
	if final.BaseName != "scratch" && !strings.Contains(final.BaseName, "distroless") {
		t.Errorf("the service image's final stage is %s; want scratch or distroless", final.BaseName)
	}
}

// Every service binary, built as the image builds it, is static (no cgo:
// the image has no C library), says its stamped version, and lists its
// settings.
func TestServiceBinaries(t *testing.T) {
	dir := binaries(t)
	for _, s := range services {
		t.Run(s, func(t *testing.T) {
			bin := filepath.Join(dir, s)
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s is dynamically linked (it has an ELF interpreter): CGO_ENABLED=0 is missing", s)
				}
			}
			if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
				t.Errorf("%s needs shared libraries %v", s, libs)
			}
			out, err := exec.Command(bin, "version").CombinedOutput()
			if err != nil {
				t.Fatalf("%s version: %v\n%s", s, err, out)
			}
			if want := s + " " + testVersion + " (validate-revision, go"; !strings.HasPrefix(string(out), want) {
				t.Errorf("%s version printed %q, want it to start with %q", s, out, want)
			}
			settingsRead(t, s)
		})
	}
}
