package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
	pythongen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/fsutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// pythonHost runs Python programs with the official executor script and Python plugins
// from source, through the SDK's toolchain package (pip and virtualenvs).
type pythonHost struct {
	*host
	executor string // pulumi-language-python-exec, next to this binary
}

// pythonToolchain reads a project's or plugin's runtime options (toolchain, virtualenv);
// a plugin defaults to ./venv, as PulumiPlugin.yaml's Python plugins do.
func pythonToolchain(info *pulumirpc.ProgramInfo, isPlugin bool) (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{Root: info.RootDirectory, ProgramDir: info.ProgramDirectory}
	options := info.GetOptions().AsMap()
	if v, ok := options["virtualenv"]; ok {
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("the virtualenv option must be a string")
		}
		opts.Virtualenv = s
	}
	if v, ok := options["toolchain"]; ok {
		switch v {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		case "uv":
			opts.Toolchain = toolchain.Uv
		default:
			return nil, fmt.Errorf("unsupported toolchain option: %v", v)
		}
	}
	if isPlugin && (opts.Toolchain == toolchain.Pip || opts.Toolchain == toolchain.Auto) && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	return toolchain.ResolveToolchain(opts)
}

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if err := h.requireEngine(); err != nil {
		return nil, err
	}
	tc, err := pythonToolchain(req.Info, false)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	args := []string{h.executor}
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engineAddress)
	flag("project", req.GetProject())
	flag("root_directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", req.GetPwd())
	flag("dry_run", strconv.FormatBool(req.GetDryRun()))
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	flag("organization", req.GetOrganization())
	args = append(args, req.Info.EntryPoint)
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	env, err := configEnv(req)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, env...)
	return h.runProgram(ctx, cmd), nil
}

func (h *pythonHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	tc, err := pythonToolchain(req.Info, req.IsPlugin)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprintln(stdout, "Installing dependencies...")
	// As Pulumi's Python host does: a plugin that is a buildable package (a pyproject.toml
	// with a project name and a build backend, as this repository is) is installed into
	// its virtualenv itself, then what requirements.txt lists.
	if req.IsPlugin {
		dir := req.Info.ProgramDirectory
		buildable, err := toolchain.IsBuildablePackage(dir)
		if err != nil {
			return fmt.Errorf("checking if the plugin is a buildable package: %w", err)
		}
		if buildable {
			if err := tc.EnsureVenv(server.Context(), dir, req.UseLanguageVersionTools, true, stdout, stderr); err != nil {
				return fmt.Errorf("creating the plugin's virtual environment: %w", err)
			}
			cmd, err := tc.ModuleCommand(server.Context(), "pip", "install", dir)
			if err != nil {
				return err
			}
			cmd.Stdout, cmd.Stderr = stdout, stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("installing the plugin's package: %w", err)
			}
		}
	}
	if err := tc.InstallDependencies(server.Context(), req.Info.ProgramDirectory, req.UseLanguageVersionTools,
		true, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Finished installing dependencies")
	return closer.Close()
}

// RunPlugin runs a source plugin (PulumiPlugin.yaml, runtime python): `python <plugin dir>
// <args>` in the plugin's virtualenv, its output streamed to the CLI, which reads the
// provider's port from it.
func (h *pythonHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	tc, err := pythonToolchain(req.Info, true)
	if err != nil {
		return err
	}
	args := append([]string{req.Info.ProgramDirectory}, req.Args...)
	cmd, err := tc.Command(server.Context(), args...)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd.Dir = req.Pwd
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, req.Env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return server.Send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exitErr.ExitCode())},
			})
		}
		return fmt.Errorf("could not run the plugin: %w", err)
	}
	return closer.Close()
}

func (h *pythonHost) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return generatePackage(req, func(
		pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, loader schema.ReferenceLoader,
	) (map[string][]byte, error) {
		return pythongen.GeneratePackage("pulumi-language-python", pkg, req.ExtraFiles, loader)
	})
}

func (h *pythonHost) GenerateProgram(
	_ context.Context, req *pulumirpc.GenerateProgramRequest,
) (*pulumirpc.GenerateProgramResponse, error) {
	return generateProgram(req, pythongen.GenerateProgram, pcl.PreferOutputVersionedInvokes)
}

// Link makes SDKs that `pulumi package add` generated importable from the project: each
// is installed into the project's virtualenv and listed in requirements.txt, by the
// toolchain package.
func (h *pythonHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	tc, err := pythonToolchain(req.Info, false)
	if err != nil {
		return nil, err
	}
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	loader := schema.NewCachedLoader(client)

	packages := map[string]string{}
	var imports strings.Builder
	for _, dep := range req.Packages {
		if dep.Package.Name == "pulumi" {
			packages["pulumi"] = dep.Path
			continue
		}
		pkg, err := linkedPackage(ctx, loader, dep.Package, "python", pythongen.Importer)
		if err != nil {
			return nil, err
		}
		name := pythongen.PyPack(pkg.Namespace, pkg.Name)
		if info, ok := pkg.Language["python"].(pythongen.PackageInfo); ok && info.PackageName != "" {
			name = info.PackageName
		}
		packages[name] = dep.Path
		fmt.Fprintf(&imports, "  import %s\n", name)
	}
	if err := tc.LinkPackages(ctx, packages); err != nil {
		return nil, fmt.Errorf("linking packages: %w", err)
	}
	return &pulumirpc.LinkResponse{
		ImportInstructions: "You can import the SDK in your Python code with:\n\n" + imports.String(),
	}, nil
}

// GenerateProject writes a PCL program as a Python project (the conformance runner's
// way to make each test's program) with pkg/v3's generator, as Pulumi's Python host does.
func (h *pythonHost) GenerateProject(
	_ context.Context, req *pulumirpc.GenerateProjectRequest,
) (*pulumirpc.GenerateProjectResponse, error) {
	return generateProject(req, func(program *pcl.Program, project workspace.Project) error {
		return pythongen.GenerateProject(
			req.TargetDirectory, project, program, req.LocalDependencies, "", "")
	})
}

// Pack builds the Python package in a directory as a wheel (the conformance runner packs
// the core SDK and each generated SDK so that projects install them): `pip wheel` with
// the python on $PATH, the build backend in an isolated environment, as `python -m
// build` makes one for Pulumi's host. Like that host, it builds into a folder of its own
// and copies the wheel out, so that packs running at once into one destination never
// take each other's wheel.
func (h *pythonHost) Pack(ctx context.Context, req *pulumirpc.PackRequest) (*pulumirpc.PackResponse, error) {
	tmp, err := os.MkdirTemp("", "pulumi-python-pack")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "python3", "-m", "pip", "wheel", "--no-deps", "--quiet",
		"-w", tmp, req.PackageDirectory)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", cmd, err, out)
	}
	wheels, _ := filepath.Glob(filepath.Join(tmp, "*.whl"))
	if len(wheels) != 1 {
		return nil, fmt.Errorf("pip wheel made %d wheels of %s, not one", len(wheels), req.PackageDirectory)
	}
	dst := filepath.Join(req.DestinationDirectory, filepath.Base(wheels[0]))
	if err := fsutil.CopyFile(dst, wheels[0], nil); err != nil {
		return nil, fmt.Errorf("copy the wheel: %w", err)
	}
	return &pulumirpc.PackResponse{ArtifactPath: dst}, nil
}
