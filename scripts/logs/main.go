// Command logs shows the local stack's logs (`make up` writes them to
// .local/logs/, one file per process) merged in time order, rendered for a
// person: time, service, what happened.
//
//	go run ./scripts/logs                  # the last lines, then follow every process (make logs)
//	go run ./scripts/logs -order <id>      # one order's path through all services (make logs ORDER=<id>)
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/shop-oss/shop/scripts/internal/logview"
)

func main() {
	dir := flag.String("dir", ".local/logs", "the directory of the processes' log files")
	order := flag.String("order", "", "show only this order's path through the services")
	last := flag.Int("n", 40, "lines of history shown before following")
	follow := flag.Bool("f", true, "keep following the files (not with -order unless given)")
	raw := flag.Bool("json", false, "print the selected lines as they are (JSON) instead of rendered")
	flag.Parse()
	followSet := false
	flag.Visit(func(f *flag.Flag) { followSet = followSet || f.Name == "f" })
	if *order != "" && !followSet {
		*follow = false
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dir, *order, *last, *follow, *raw, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "logs:", err)
		os.Exit(1)
	}
}

// tail is one log file and how far it has been read.
type tail struct {
	source string
	offset int64
}

func run(ctx context.Context, dir, order string, last int, follow, raw bool, out io.Writer) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%w (make up writes the logs there)", err)
	}
	files := map[string]*tail{}
	records, err := readNew(dir, files)
	if err != nil {
		return err
	}
	logview.Sort(records)
	print := func(rs []logview.Record) {
		for _, r := range rs {
			if raw {
				fmt.Fprintln(out, r.Raw)
			} else {
				fmt.Fprintln(out, logview.Format(r))
			}
		}
	}
	if order != "" {
		records = logview.ForOrder(records, order)
		if len(records) == 0 && !follow {
			return fmt.Errorf("no line of %s names order %s", dir, order)
		}
	} else if len(records) > last {
		records = records[len(records)-last:]
	}
	print(records)
	if !follow {
		return nil
	}
	seen := append([]logview.Record(nil), records...) // for an order's traces and requests
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		rs, err := readNew(dir, files)
		if err != nil {
			return err
		}
		logview.Sort(rs)
		if order != "" {
			seen = append(seen, rs...)
			picked := logview.ForOrder(seen, order)
			rs = picked[len(picked)-countNew(picked, rs):]
		}
		print(rs)
	}
}

// countNew is how many of picked's last records are among fresh.
func countNew(picked, fresh []logview.Record) int {
	in := make(map[string]bool, len(fresh))
	for _, r := range fresh {
		in[r.Raw] = true
	}
	n := 0
	for i := len(picked) - 1; i >= 0 && in[picked[i].Raw]; i-- {
		n++
	}
	return n
}

// readNew reads the complete lines written to dir's *.log files since the
// last call (a file that shrank was truncated: read again from its start).
func readNew(dir string, files map[string]*tail) ([]logview.Record, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return nil, err
	}
	var out []logview.Record
	for _, p := range paths {
		tl := files[p]
		if tl == nil {
			tl = &tail{source: strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p), ".log"), "-access")}
			files[p] = tl
		}
		rs, err := tl.read(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func (tl *tail) read(path string) ([]logview.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() < tl.offset {
		tl.offset = 0
	}
	if _, err := f.Seek(tl.offset, io.SeekStart); err != nil {
		return nil, err
	}
	var out []logview.Record
	rd := bufio.NewReaderSize(f, 1<<16)
	for {
		line, err := rd.ReadString('\n')
		if err != nil { // EOF: an incomplete last line is read next time
			return out, nil
		}
		tl.offset += int64(len(line))
		if s := strings.TrimRight(line, "\r\n"); s != "" {
			out = append(out, logview.Parse(tl.source, s))
		}
	}
}
