package service

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/shop-oss/shop/pkg/config"
)

// Binary is a service's command line, the same in every service: serve
// (the default), the commands every service has (RunCommand: version,
// settings, healthcheck, migrate) and the service's own (seed, ...). C is
// the service's configuration struct.
type Binary[C any] struct {
	Name       string
	Migrations fs.FS
	// Load reads and checks the configuration from the environment; nil:
	// config.Load alone.
	Load func(environ map[string]string) (C, error)
	// New wires the service that serve runs.
	New func(ctx context.Context, cfg C) (*Service, error)
	// Commands are the service's own, by name.
	Commands map[string]Command[C]
}

// Command is one of a service's own subcommands.
type Command[C any] struct {
	// Args names its arguments for the usage line ("[file]"); MaxArgs is
	// how many it takes.
	Args    string
	MaxArgs int
	Run     func(ctx context.Context, cfg C, args []string, out io.Writer) error
}

// Main runs the binary: service.Main over Run, printing to stdout.
func (b Binary[C]) Main() {
	Main(b.Name, func(ctx context.Context, args []string) error { return b.Run(ctx, args, os.Stdout) })
}

// Run runs the command args names, with the configuration of the process
// environment (read only by the commands that need it).
func (b Binary[C]) Run(ctx context.Context, args []string, out io.Writer) error {
	if ok, err := RunCommand(ctx, args, Commands{Name: b.Name, Config: new(C), Migrations: b.Migrations}, out); ok {
		return err
	}
	serve := len(args) == 0 || args[0] == "serve"
	cmd, own := Command[C]{}, false
	if !serve {
		cmd, own = b.Commands[args[0]]
	}
	if !serve && (!own || len(args)-1 > cmd.MaxArgs) {
		return fmt.Errorf("unknown command %q (want %s)", strings.Join(args, " "), b.usage())
	}
	cfg, err := b.load(config.Environ())
	if err != nil {
		return err
	}
	if serve {
		return Serve(ctx, func(ctx context.Context) (*Service, error) { return b.New(ctx, cfg) })
	}
	return cmd.Run(ctx, cfg, args[1:], out)
}

func (b Binary[C]) load(environ map[string]string) (C, error) {
	if b.Load != nil {
		return b.Load(environ)
	}
	var cfg C
	err := config.Load(&cfg, b.Name, environ)
	return cfg, err
}

// usage lists the commands: "serve, seed [file], version, ... or migrate".
func (b Binary[C]) usage() string {
	names := []string{"serve"}
	own := make([]string, 0, len(b.Commands))
	for name, c := range b.Commands {
		own = append(own, strings.TrimSpace(name+" "+c.Args))
	}
	slices.Sort(own)
	names = append(append(names, own...), CommandNames...)
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
