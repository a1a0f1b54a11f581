package service

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main is a service binary's main: run gets the command-line arguments and
// a context that SIGINT or SIGTERM cancels (the graceful shutdown); when it
// fails, its error is printed as "<name>: <error>" and the process exits 1.
func Main(name string, run func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Serve is every binary's serve command: the runtime tuned for a service
// (TuneRuntime), the service that start wires, run until ctx ends, then
// closed.
func Serve(ctx context.Context, start func(context.Context) (*Service, error)) error {
	TuneRuntime()
	svc, err := start(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	return svc.Run(ctx)
}
