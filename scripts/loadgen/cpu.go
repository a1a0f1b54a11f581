package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The speed of this VM changes by tens of percent within a day, so orders/s
// alone compare badly across runs. The CPU that each program spent per
// order is steadier, and says where the time goes: it is read from /proc
// (Linux) at the start and the end of the load.

// walStats is PostgreSQL's WAL counters (pg_stat_wal, the whole server):
// how much the saga writes ahead, in how many records (every row, index
// entry and row lock written is one: a count that, unlike CPU time, does
// not drift with the VM's speed), and how often a commit waited for the
// disk.
type walStats struct {
	bytes, records, syncs int64
}

func (s *shop) walStats(ctx context.Context) (walStats, error) {
	var w walStats
	err := s.queryRow(ctx, "order", "SELECT wal_bytes::bigint, wal_records, wal_sync FROM pg_stat_wal", nil, &w.bytes, &w.records, &w.syncs)
	return w, err
}

// perOrder formats the WAL written and flushed per order.
func (a walStats) perOrder(b walStats, orders int) string {
	if orders == 0 {
		return "no orders"
	}
	n := float64(orders)
	return fmt.Sprintf("%.1f KB written in %.0f records, %.2f flushes to disk",
		float64(b.bytes-a.bytes)/1024/n, float64(b.records-a.records)/n, float64(b.syncs-a.syncs)/n)
}

// userHZ is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const userHZ = 100

// cpuSample is the CPU time of every live process, and the machine's
// counters, at one moment.
type cpuSample struct {
	procs              map[int]procCPU
	busy, idle, steals uint64 // jiffies, from /proc/stat
}

type procCPU struct {
	comm    string
	jiffies uint64 // user + system
}

func sampleCPU() (cpuSample, error) {
	s := cpuSample{procs: map[int]procCPU{}}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line)) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return s, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	for i, v := range f[1:9] {
		n, _ := strconv.ParseUint(v, 10, 64)
		switch i {
		case 3, 4: // idle, iowait
			s.idle += n
		case 7:
			s.steals += n
		default:
			s.busy += n
		}
	}
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return s, err
	}
	for _, dir := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(dir))
		b, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open {
			continue
		}
		rest := strings.Fields(string(b[end+1:]))
		if len(rest) < 13 {
			continue
		}
		utime, _ := strconv.ParseUint(rest[11], 10, 64)
		stime, _ := strconv.ParseUint(rest[12], 10, 64)
		s.procs[pid] = procCPU{comm: string(b[open+1 : end]), jiffies: utime + stime}
	}
	return s, nil
}

// cpuUse is the CPU time spent between two samples, by program.
type cpuUse struct {
	byProgram         map[string]time.Duration
	busy, idle, steal time.Duration
}

// until is the CPU used from a to b. A process that exited in between is
// missed (the services' connection pools keep their PostgreSQL backends).
func (a cpuSample) until(b cpuSample) cpuUse {
	u := cpuUse{
		byProgram: map[string]time.Duration{},
		busy:      jiffies(b.busy - a.busy),
		idle:      jiffies(b.idle - a.idle),
		steal:     jiffies(b.steals - a.steals),
	}
	for pid, p := range b.procs {
		used := p.jiffies
		if before, ok := a.procs[pid]; ok && before.comm == p.comm {
			used -= before.jiffies
		}
		if used > 0 {
			u.byProgram[program(p.comm)] += jiffies(used)
		}
	}
	return u
}

func jiffies(n uint64) time.Duration { return time.Duration(n) * time.Second / userHZ }

// program names the groups of the report: the services, PostgreSQL, Redis,
// the gateway (nginx), the load generator (its HTTP clients and the
// in-process broker) and the rest.
func program(comm string) string {
	switch comm {
	case "identity", "catalog", "inventory", "order", "payment", "postgres", "loadgen":
		return comm
	case "redis-server":
		return "redis"
	case "nginx":
		return "gateway"
	}
	return "other"
}

// perOrder formats the CPU per order, largest first.
func (u cpuUse) perOrder(orders int) string {
	if orders == 0 {
		return "no orders"
	}
	type share struct {
		name string
		d    time.Duration
	}
	var all []share
	var total time.Duration
	for name, d := range u.byProgram {
		all = append(all, share{name, d})
		total += d
	}
	sort.Slice(all, func(i, j int) bool { return all[i].d > all[j].d })
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond)/float64(orders), 'f', 2, 64)
	}
	var b strings.Builder
	for _, s := range all {
		fmt.Fprintf(&b, "%s %s, ", s.name, ms(s.d))
	}
	fmt.Fprintf(&b, "total %s ms", ms(total))
	if all := u.busy + u.idle + u.steal; all > 0 {
		fmt.Fprintf(&b, "; machine busy %.0f%%, steal %.0f%%", 100*float64(u.busy)/float64(all), 100*float64(u.steal)/float64(all))
	}
	return b.String()
}
