// Package doclinks checks the repository's Markdown: every relative link
// resolves to a file (and, with a #fragment into Markdown, to one of its
// headings), and every decision record is in the decisions' index. It has
// no code of its own; `go test ./internal/doclinks/` in scripts runs it.
package doclinks

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// link matches an inline Markdown link or image: [text](target) with an
// optional "title". Reference-style links are not used in this repository.
var link = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// inlineCode matches a code span, whose brackets are not links.
var inlineCode = regexp.MustCompile("`[^`]*`")

// repoRoot is the checkout's top folder (this test runs in scripts/internal/doclinks).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	return root
}

// markdownFiles lists the Markdown files git tracks or would track (not
// ignored ones: node_modules, builds, .local).
func markdownFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.md")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Fields(string(out)) {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil { // deleted but not yet staged
			files = append(files, f)
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d Markdown files found under %s", len(files), root)
	}
	return files
}

// linksAndHeadings reads one Markdown file: its link targets (outside
// fenced code and code spans) and the anchors of its headings.
func linksAndHeadings(t *testing.T, path string) (links []string, anchors map[string]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	anchors = map[string]bool{}
	seen := map[string]int{}
	fenced := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		if strings.HasPrefix(trimmed, "#") {
			a := slug(strings.TrimLeft(trimmed, "#"))
			if n := seen[a]; n > 0 {
				anchors[a+"-"+strconv.Itoa(n)] = true
			} else {
				anchors[a] = true
			}
			seen[a]++
		}
		for _, m := range link.FindAllStringSubmatch(inlineCode.ReplaceAllString(line, ""), -1) {
			links = append(links, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return links, anchors
}

// slug is GitHub's anchor for a heading: lower case, spaces to hyphens,
// punctuation other than hyphens and underscores dropped.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestEveryRelativeMarkdownLinkResolves(t *testing.T) {
	root := repoRoot(t)
	files := markdownFiles(t, root)
	anchorsOf := map[string]map[string]bool{}
	linksOf := map[string][]string{}
	for _, f := range files {
		linksOf[f], anchorsOf[f] = linksAndHeadings(t, filepath.Join(root, f))
	}
	checked := 0
	for _, f := range files {
		for _, target := range linksOf[f] {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue // not relative
			}
			path, fragment, _ := strings.Cut(target, "#")
			resolved := f // a bare #fragment points into this file
			if path != "" {
				resolved = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(f), path)))
				if strings.HasPrefix(resolved, "../") {
					t.Errorf("%s: link %q leaves the repository", f, target)
					continue
				}
				if _, err := os.Stat(filepath.Join(root, resolved)); err != nil {
					t.Errorf("%s: link %q: %s does not exist", f, target, resolved)
					continue
				}
			}
			checked++
			if fragment == "" || !strings.HasSuffix(resolved, ".md") {
				continue
			}
			anchors, ok := anchorsOf[resolved]
			if !ok {
				_, anchors = linksAndHeadings(t, filepath.Join(root, resolved))
			}
			if !anchors[fragment] {
				t.Errorf("%s: link %q: %s has no heading #%s", f, target, resolved, fragment)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d relative links checked: is the link pattern still right?", checked)
	}
}

func TestEveryDecisionRecordIsInTheIndex(t *testing.T) {
	root := repoRoot(t)
	dir := filepath.Join(root, "docs", "decisions")
	index, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	records, err := filepath.Glob(filepath.Join(dir, "[0-9][0-9][0-9][0-9]-*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(records) == 0 {
		t.Fatal("no decision records found")
	}
	numbers := map[string]string{}
	for _, r := range records {
		name := filepath.Base(r)
		if other, dup := numbers[name[:4]]; dup {
			t.Errorf("decision number %s is taken twice: %s and %s", name[:4], other, name)
		}
		numbers[name[:4]] = name
		if !strings.Contains(string(index), "]("+name+")") {
			t.Errorf("docs/decisions/README.md does not list %s", name)
		}
	}
}
