package tracing

import (
	"fmt"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// sampler is the sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
// name (default parentbased_always_on), with one change at the edge: a
// server span (an HTTP request, which may come from a browser through the
// gateway) is decided by the root sampler alone, whatever sampled flag the
// caller's traceparent carries. A public client may name the trace it
// belongs to (the storefront sends one trace ID for a checkout), but not
// make every service record it: with a ratio, the decision is the trace
// ID's, the same in every service, so a trace is recorded whole or not at
// all. Spans of consumed events and everything inside a request follow
// their parent as configured.
func sampler(env Env) (sdktrace.Sampler, error) {
	name, _ := env("OTEL_TRACES_SAMPLER")
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		name = "parentbased_always_on"
	}
	root, parentBased := strings.CutPrefix(name, "parentbased_")
	var r sdktrace.Sampler
	switch root {
	case "always_on":
		r = sdktrace.AlwaysSample()
	case "always_off":
		r = sdktrace.NeverSample()
	case "traceidratio":
		ratio := 1.0
		if v, _ := env("OTEL_TRACES_SAMPLER_ARG"); strings.TrimSpace(v) != "" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG=%q: a ratio from 0 to 1", v)
			}
			ratio = f
		}
		r = sdktrace.TraceIDRatioBased(ratio)
	default:
		return nil, fmt.Errorf("OTEL_TRACES_SAMPLER=%q: Shop takes always_on, always_off, traceidratio or their parentbased_ forms", name)
	}
	rest := r
	if parentBased {
		rest = sdktrace.ParentBased(r)
	}
	return edgeSampler{root: r, rest: rest}, nil
}

type edgeSampler struct{ root, rest sdktrace.Sampler }

func (s edgeSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if p.Kind == trace.SpanKindServer {
		return s.root.ShouldSample(p)
	}
	return s.rest.ShouldSample(p)
}

func (s edgeSampler) Description() string {
	return "EdgeSampler{server:" + s.root.Description() + ",other:" + s.rest.Description() + "}"
}
