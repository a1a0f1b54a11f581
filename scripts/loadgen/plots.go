package main

import (
	"bytes"
	"fmt"
	"image/color"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// capacityPlots draws the ramp: orders/s by customers, the saga's latency
// curve (percentiles by orders/s, with the 1 s limit) and the CPU each
// process spends per order, as PNG files for the report.
func capacityPlots(steps []step) (map[string][]byte, error) {
	if len(steps) == 0 {
		return nil, fmt.Errorf("no ramp step")
	}
	out := map[string][]byte{}

	tp := plot.New()
	tp.Title.Text = "Orders reaching PAID per second"
	tp.X.Label.Text = "concurrent customers"
	tp.Y.Label.Text = "orders/s"
	pts := make(plotter.XYs, len(steps))
	for i, s := range steps {
		pts[i] = plotter.XY{X: float64(s.customers), Y: s.paidPerSec}
	}
	if err := plotutil.AddLinePoints(tp, "orders/s to PAID", pts); err != nil {
		return nil, err
	}
	tp.X.Scale = plot.LogScale{}
	tp.X.Tick.Marker = plot.LogTicks{Prec: -1}
	if err := save(out, "throughput.png", tp); err != nil {
		return nil, err
	}

	lp := plot.New()
	lp.Title.Text = "Saga latency, CREATED → PAID"
	lp.X.Label.Text = "concurrent customers"
	lp.Y.Label.Text = "seconds"
	var series []any
	for _, q := range []struct {
		name string
		get  func(step) time.Duration
	}{{"p50", func(s step) time.Duration { return s.p50 }}, {"p95", func(s step) time.Duration { return s.p95 }}, {"p99", func(s step) time.Duration { return s.p99 }}} {
		xy := make(plotter.XYs, len(steps))
		for i, s := range steps {
			xy[i] = plotter.XY{X: float64(s.customers), Y: q.get(s).Seconds()}
		}
		series = append(series, q.name, xy)
	}
	if err := plotutil.AddLinePoints(lp, series...); err != nil {
		return nil, err
	}
	limit := plotter.NewFunction(func(float64) float64 { return sagaP99Limit.Seconds() })
	limit.Color = color.RGBA{R: 200, A: 255}
	limit.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	lp.Add(limit)
	lp.Legend.Add("p99 limit (1 s)", limit)
	lp.X.Scale = plot.LogScale{}
	lp.X.Tick.Marker = plot.LogTicks{Prec: -1}
	lp.Legend.Top = true
	lp.Legend.Left = true
	if err := save(out, "latency.png", lp); err != nil {
		return nil, err
	}

	cp := plot.New()
	cp.Title.Text = "CPU per order by process (from /proc)"
	cp.X.Label.Text = "concurrent customers"
	cp.Y.Label.Text = "ms per order"
	progs := map[string]bool{}
	for _, s := range steps {
		for p := range s.cpu.byProgram {
			progs[p] = true
		}
	}
	var names []string
	for p := range progs {
		names = append(names, p)
	}
	sort.Strings(names)
	series = series[:0]
	for _, p := range names {
		xy := make(plotter.XYs, len(steps))
		for i, s := range steps {
			xy[i] = plotter.XY{X: float64(s.customers), Y: float64(s.cpu.byProgram[p]) / float64(time.Millisecond) / float64(max(s.paid, 1))}
		}
		series = append(series, p, xy)
	}
	if err := plotutil.AddLinePoints(cp, series...); err != nil {
		return nil, err
	}
	cp.X.Scale = plot.LogScale{}
	cp.X.Tick.Marker = plot.LogTicks{Prec: -1}
	cp.Legend.Top = true
	if err := save(out, "cpu.png", cp); err != nil {
		return nil, err
	}
	return out, nil
}

func save(out map[string][]byte, name string, p *plot.Plot) error {
	w, err := p.WriterTo(7*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return err
	}
	out[name] = b.Bytes()
	return nil
}
