// Command langhost is the Python, Node.js and Go language host this project's end-to-end
// tests run the Pulumi CLI with.
//
// Pulumi's own hosts (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3,
// .../sdk/nodejs/cmd/pulumi-language-nodejs/v3, .../sdk/go/pulumi-language-go/v3) are Go
// modules without tags, and the Go module proxy this project's machines reach answers
// "403 This module version is not available" for every version of them (see
// docs/testing.md). The CLI and the YAML host are Pulumi's own builds; this program stands
// in for the other three. It is glue only: what a host does is done by Pulumi's own code
// at the CLI's version — sdk/v3/python/toolchain runs Python (virtualenvs, pip, linking),
// the official pulumi-language-python-exec runs a Python program, @pulumi/pulumi's
// cmd/run runs a Node.js program, and pkg/v3/codegen generates SDKs and `pulumi import`
// code — wired to the LanguageRuntime protocol as the CLI calls it.
//
// One binary serves the three languages; its name says which (pulumi-language-python,
// pulumi-language-nodejs, pulumi-language-go), as the CLI finds hosts by name.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// version is set at build time (-X main.version=v3.X.Y): the CLI's version.
var version = "v0.0.0-dev"

func main() {
	name := filepath.Base(os.Args[0])
	language := strings.TrimPrefix(name, "pulumi-language-")

	flags := flag.NewFlagSet(name, flag.ExitOnError)
	showVersion := flags.Bool("version", false, "print the version and exit")
	// Flags the CLI or a user may pass to a host; accepted and unused here.
	flags.String("tracing", "", "a tracing endpoint (unused)")
	flags.String("root", "", "the project root (unused)")
	flags.String("binary", "", "unused")
	flags.Bool("typescript", true, "unused")
	if err := flags.Parse(os.Args[1:]); err != nil {
		cmdutil.Exit(err)
	}
	if *showVersion {
		fmt.Println(version)
		return
	}
	engineAddress := ""
	if flags.NArg() > 0 {
		engineAddress = flags.Arg(0)
	}

	var server pulumirpc.LanguageRuntimeServer
	base := &host{engineAddress: engineAddress, language: language}
	base.cancelCtx, base.cancel = context.WithCancel(context.Background())
	switch language {
	case "python":
		exe, err := os.Executable()
		if err != nil {
			cmdutil.Exit(err)
		}
		executor := filepath.Join(filepath.Dir(exe), "pulumi-language-python-exec")
		if _, err := os.Stat(executor); err != nil {
			cmdutil.Exit(fmt.Errorf("missing executor %s: %w", executor, err))
		}
		server = &pythonHost{host: base, executor: executor}
	case "nodejs":
		server = &nodejsHost{host: base}
	case "go":
		server = &goHost{host: base}
	default:
		cmdutil.Exit(fmt.Errorf("%s: no language host for %q (name this binary pulumi-language-python, "+
			"pulumi-language-nodejs or pulumi-language-go)", name, language))
	}

	stop := make(chan bool)
	var once sync.Once
	base.stopServer = func() { once.Do(func() { close(stop) }) }
	// Ctrl-C reaches every process of the terminal's group: the CLI (which cancels the
	// deployment), the program and this host. As the official hosts do, the host then
	// stops serving gracefully: a Run in flight returns what the program did before
	// the host exits, instead of the host dying under it.
	interrupted, stopNotify := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		<-interrupted.Done()
		stopNotify() // a second Ctrl-C is the default's again: exit at once
		base.stopServer()
	}()
	if engineAddress != "" {
		base.watchEngine(engineAddress)
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, server)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host's server: %w", err))
	}
	// The CLI reads the port from the first line.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("the language host's server stopped: %w", err))
	}
}
