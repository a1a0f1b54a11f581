package service

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/shop-oss/shop/pkg/config"
)

type binaryConfig struct {
	config.Common
	Greeting string `env:"SHOP_TEST_GREETING" envDefault:"hello"`
}

// A binary runs the commands every service has without reading its
// configuration, its own commands with the configuration and their
// arguments, and refuses anything else naming what it takes.
func TestBinaryDispatchesItsCommands(t *testing.T) {
	var ran []string
	loads := 0
	b := Binary[binaryConfig]{
		Name: "test",
		Load: func(env map[string]string) (binaryConfig, error) {
			loads++
			var cfg binaryConfig
			err := config.Load(&cfg, "order", map[string]string{})
			return cfg, err
		},
		Commands: map[string]Command[binaryConfig]{
			"seed": {Args: "[file]", MaxArgs: 1, Run: func(_ context.Context, cfg binaryConfig, args []string, out io.Writer) error {
				ran = append(ran, cfg.Greeting+" "+strings.Join(args, ","))
				return nil
			}},
			"rotate-key": {Run: func(context.Context, binaryConfig, []string, io.Writer) error { return errors.New("no keys") }},
		},
	}
	var out bytes.Buffer
	if err := b.Run(context.Background(), []string{"version"}, &out); err != nil || !strings.HasPrefix(out.String(), "test ") || loads != 0 {
		t.Fatalf("version: %v, %q, %d loads; want the version without loading the configuration", err, out.String(), loads)
	}
	for _, args := range [][]string{{"seed"}, {"seed", "demo.json"}} {
		if err := b.Run(context.Background(), args, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if want := []string{"hello ", "hello demo.json"}; strings.Join(ran, "|") != strings.Join(want, "|") || loads != 2 {
		t.Errorf("seed ran %q with %d loads, want %q with 2", ran, loads, want)
	}
	if err := b.Run(context.Background(), []string{"rotate-key"}, &out); err == nil || err.Error() != "no keys" {
		t.Errorf("rotate-key: %v, want its own error", err)
	}
	const want = `(want serve, rotate-key, seed [file], version, settings, healthcheck or migrate)`
	for _, args := range [][]string{{"sede"}, {"seed", "a", "b"}} {
		err := b.Run(context.Background(), args, &out)
		if err == nil || !strings.Contains(err.Error(), `unknown command "`+strings.Join(args, " ")+`" `+want) {
			t.Errorf("%v: %v, want an unknown command listing %s", args, err, want)
		}
	}
}
