package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// goHost builds a Go program with `go build` and runs the binary, passing the run's
// settings in the environment variables the Go SDK reads.
type goHost struct {
	*host
}

func (h *goHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if err := h.requireEngine(); err != nil {
		return nil, err
	}
	out, err := os.MkdirTemp("", "pulumi-go-program-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	binary := filepath.Join(out, "program")
	build := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", binary, ".")
	build.Dir = req.Info.ProgramDirectory
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("unable to run `go build`: %v", err)}, nil
	}

	env, err := configEnv(req)
	if err != nil {
		return nil, err
	}
	set := func(name, value string) {
		if value != "" {
			env = append(env, name+"="+value)
		}
	}
	set(pulumi.EnvOrganization, req.GetOrganization())
	set(pulumi.EnvProject, req.GetProject())
	set(pulumi.EnvPulumiRootDirectory, req.GetInfo().GetRootDirectory())
	set(pulumi.EnvStack, req.GetStack())
	set(pulumi.EnvDryRun, strconv.FormatBool(req.GetDryRun()))
	set(pulumi.EnvParallel, strconv.Itoa(int(req.GetParallel())))
	set(pulumi.EnvMonitor, req.GetMonitorAddress())
	set(pulumi.EnvEngine, h.engineAddress)

	cmd := exec.Command(binary)
	cmd.Dir = req.GetPwd()
	cmd.Env = append(os.Environ(), env...)
	return h.runProgram(ctx, cmd), nil
}

// InstallDependencies tidies the program's module (`pulumi install`, and `pulumi package
// add` after Link), as Pulumi's own Go host does: go.sum gets what the program imports.
func (h *goHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd := exec.CommandContext(server.Context(), "go", "mod", "tidy")
	cmd.Dir = req.Info.ProgramDirectory
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go mod tidy failed: %w", err)
	}
	return closer.Close()
}

func (h *goHost) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	if len(req.ExtraFiles) > 0 {
		return nil, fmt.Errorf("overlays are not supported for Go")
	}
	return generatePackage(req, func(
		pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, _ schema.ReferenceLoader,
	) (map[string][]byte, error) {
		return gogen.GeneratePackage("pulumi-language-go", pkg, req.LocalDependencies)
	})
}

func (h *goHost) GenerateProgram(
	_ context.Context, req *pulumirpc.GenerateProgramRequest,
) (*pulumirpc.GenerateProgramResponse, error) {
	return generateProgram(req, gogen.GenerateProgram, pcl.PreferOutputVersionedInvokes)
}

// Link replaces each SDK `pulumi package add` generated (with a go.mod of its own) by its
// directory in the program's go.mod (`go mod edit`).
func (h *goHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	loader := schema.NewCachedLoader(client)

	// As Pulumi's Go host links: a replace directive per SDK and nothing else; the
	// InstallDependencies that follows (`go mod tidy`) writes the require the program's
	// imports need (v0.0.0-00010101000000-000000000000 for a replaced module).
	var imports strings.Builder
	for _, dep := range req.Packages {
		modulePath := "github.com/pulumi/pulumi/sdk/v3" // a local Pulumi SDK
		if dep.Package.Name != "pulumi" {
			pkg, err := linkedPackage(ctx, loader, dep.Package, "go", gogen.Importer)
			if err != nil {
				return nil, err
			}
			module, importPath, err := gogen.ModuleAndImportPath(pkg)
			if err != nil {
				return nil, err
			}
			modulePath = module
			fmt.Fprintf(&imports, "    %q\n", importPath)
		}
		dir, err := filepath.Rel(req.Info.ProgramDirectory, filepath.Join(req.Info.RootDirectory, dep.Path))
		if err != nil {
			return nil, err
		}
		dir = filepath.ToSlash(dir)
		if !strings.HasPrefix(dir, "../") {
			dir = "./" + dir
		}
		cmd := exec.CommandContext(ctx, "go", "mod", "edit", "-replace="+modulePath+"="+dir)
		cmd.Dir = req.Info.ProgramDirectory
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %w: %s", cmd, err, out)
		}
	}
	sdks := "the SDK"
	if len(req.Packages) > 1 {
		sdks = "the SDKs"
	}
	return &pulumirpc.LinkResponse{
		ImportInstructions: "You can import " + sdks + " in your Go code with:\n\n  import (\n" +
			imports.String() + "  )\n",
	}, nil
}
