package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/cgstrings"
	nodejsgen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/executable"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/fsutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// nodejsHost runs Node.js and TypeScript programs with @pulumi/pulumi's own entry point
// (cmd/run, which compiles TypeScript with its bundled ts-node) from the program's
// node_modules.
type nodejsHost struct {
	*host
}

func (h *nodejsHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if err := h.requireEngine(); err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH: " + err.Error()}, nil
	}
	resolve := exec.Command(node, "-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run'))")
	resolve.Dir = req.Info.ProgramDirectory
	out, err := resolve.Output()
	if err != nil {
		return &pulumirpc.RunResponse{
			Error: "It looks like the Pulumi SDK has not been installed. Have you run npm install?",
		}, nil
	}
	runPath := strings.TrimSpace(string(out))

	args := []string{runPath}
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engineAddress)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("root-directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", req.Info.ProgramDirectory)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	args = append(args, req.Info.EntryPoint)
	args = append(args, req.GetArgs()...)

	env, err := configEnv(req)
	if err != nil {
		return nil, err
	}
	options := req.Info.GetOptions().AsMap()
	typescript := true
	if v, ok := options["typescript"]; ok {
		b, ok := v.(bool)
		if !ok {
			return nil, errors.New("the typescript option must be a boolean")
		}
		typescript = b
	}
	if typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if v, ok := options["tsconfig"].(string); ok && v != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+v)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = append(os.Environ(), env...)
	return h.runProgram(ctx, cmd), nil
}

// InstallDependencies runs `npm install` in the program's directory (`pulumi install`).
func (h *nodejsHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	// The package manager the project uses (its `packagemanager` option, else its lock
	// file, else npm), through sdk/v3's npm package, as Pulumi's Node.js host installs.
	manager, err := packageManager(req.Info)
	if err != nil {
		return err
	}
	if _, err := npm.Install(server.Context(), manager, req.Info.ProgramDirectory, false, stdout, stderr); err != nil {
		return fmt.Errorf("installing the program's dependencies: %w", err)
	}
	return closer.Close()
}

// resolvedPackageManager is the package manager of the program's project: its
// `packagemanager` option, else the one its lock file names, else npm (sdk/v3's npm
// package decides, as for Pulumi's Node.js host).
func resolvedPackageManager(info *pulumirpc.ProgramInfo) (npm.PackageManager, error) {
	option, err := packageManager(info)
	if err != nil {
		return nil, err
	}
	return npm.ResolvePackageManager(option, info.ProgramDirectory)
}

// packageManager is the project's `packagemanager` runtime option (auto when unset).
func packageManager(info *pulumirpc.ProgramInfo) (npm.PackageManagerType, error) {
	option, ok := info.GetOptions().AsMap()["packagemanager"]
	if !ok {
		return npm.AutoPackageManager, nil
	}
	name, ok := option.(string)
	if !ok {
		return "", errors.New("the packagemanager option must be a string")
	}
	return npm.PackageManagerType(name), nil
}

func (h *nodejsHost) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return generatePackage(req, func(
		pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, loader schema.ReferenceLoader,
	) (map[string][]byte, error) {
		return nodejsgen.GeneratePackage("pulumi-language-nodejs", pkg, req.ExtraFiles, req.LocalDependencies,
			req.Local, loader)
	})
}

func (h *nodejsHost) GenerateProgram(
	_ context.Context, req *pulumirpc.GenerateProgramRequest,
) (*pulumirpc.GenerateProgramResponse, error) {
	return generateProgram(req, nodejsgen.GenerateProgram, pcl.PreferOutputVersionedInvokes)
}

// Link adds the SDKs `pulumi package add` generated to the program's package.json as
// `file:` dependencies through the project's package manager (sdk/v3's npm package, as
// Pulumi's Node.js host does: with npm, each is also allowed its install scripts, which
// build the local SDK); the CLI then installs them with InstallDependencies.
func (h *nodejsHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	loader := schema.NewCachedLoader(client)
	dir := req.Info.ProgramDirectory
	manager, err := resolvedPackageManager(req.Info)
	if err != nil {
		return nil, err
	}

	// As the official host says it: TypeScript unless the project turned it off and has
	// no tsconfig.json; module syntax for TypeScript or a package.json of "type": "module".
	typescript := true
	if v, ok := req.Info.GetOptions().AsMap()["typescript"].(bool); ok {
		typescript = v
	}
	if !typescript {
		if _, err := fsutil.Searchup(dir, "tsconfig.json"); err == nil {
			typescript = true
		}
	}
	modules := typescript
	if !modules {
		if manifest, err := npm.SearchupPackageManifest(dir); err == nil {
			if data, _, err := npm.ReadPackageManifest(filepath.Dir(manifest)); err == nil {
				modules = data["type"] == "module"
			}
		}
	}
	instructions := "You can import the SDK in your JavaScript code with:\n\n"
	if typescript {
		instructions = "You can import the SDK in your TypeScript code with:\n\n"
	}

	var imports strings.Builder
	for _, dep := range req.Packages {
		pkg, err := linkedPackage(ctx, loader, dep.Package, "nodejs", nodejsgen.Importer)
		if err != nil {
			return nil, err
		}
		name := "@pulumi/" + pkg.Name
		if pkg.Namespace != "" {
			name = "@" + pkg.Namespace + "/" + pkg.Name
		}
		if info, ok := pkg.Language["nodejs"].(nodejsgen.NodePackageInfo); ok && info.PackageName != "" {
			name = info.PackageName
		}
		if err := manager.Link(ctx, dir, name, dep.Path); err != nil {
			return nil, err
		}
		if modules {
			fmt.Fprintf(&imports, "  import * as %s from \"%s\";\n", cgstrings.Camel(pkg.Name), name)
		} else {
			fmt.Fprintf(&imports, "  const %s = require(\"%s\");\n", cgstrings.Camel(pkg.Name), name)
		}
	}
	return &pulumirpc.LinkResponse{ImportInstructions: instructions + imports.String()}, nil
}

// GenerateProject writes a PCL program as a Node.js project (the conformance runner's way
// to make each test's program) with pkg/v3's generator, as Pulumi's Node.js host does
// (TypeScript run by ts-node, the runtime "nodejs").
func (h *nodejsHost) GenerateProject(
	_ context.Context, req *pulumirpc.GenerateProjectRequest,
) (*pulumirpc.GenerateProjectResponse, error) {
	return generateProject(req, func(program *pcl.Program, project workspace.Project) error {
		return nodejsgen.GenerateProject(
			req.TargetDirectory, project, program, req.LocalDependencies, false, "nodejs")
	})
}

// Pack builds the Node.js package in a directory and packs it into a tarball (the
// conformance runner packs the core SDK and each generated SDK so that projects install
// them), as Pulumi's Node.js host does: the core SDK (@pulumi/pulumi) by `npm ci` and
// `tsc` with its proto and vendor folders copied beside the output, a generated SDK by
// `npm install` and its `build` script; then `npm pack` of the bin folder.
func (h *nodejsHost) Pack(ctx context.Context, req *pulumirpc.PackRequest) (*pulumirpc.PackResponse, error) {
	npmPath, err := executable.FindExecutable("npm")
	if err != nil {
		return nil, fmt.Errorf("find npm: %w", err)
	}
	dir := req.PackageDirectory
	manifest, _, err := npm.ReadPackageManifest(dir)
	if err != nil {
		return nil, err
	}
	run := func(name string, args ...string) error {
		fmt.Fprintf(os.Stderr, "$ %s %s\n", filepath.Base(name), strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		// Wrapped, so that node's non-blocking stdio never reaches this process's own.
		cmd.Stdout = struct{ io.Writer }{os.Stderr}
		var stderr bytes.Buffer
		cmd.Stderr = io.MultiWriter(struct{ io.Writer }{os.Stderr}, &stderr)
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, stderr.Bytes())
		}
		return nil
	}
	bin := filepath.Join(dir, "bin")
	if manifest["name"] == "@pulumi/pulumi" {
		if err := run(npmPath, "ci"); err != nil {
			return nil, err
		}
		if err := run("npx", "--no-install", "tsc"); err != nil {
			return nil, err
		}
		// tsc copies neither the proto nor the vendor folder.
		for _, folder := range []string{"proto", "vendor"} {
			if err := fsutil.CopyFile(filepath.Join(bin, folder), filepath.Join(dir, folder), nil); err != nil {
				return nil, fmt.Errorf("copy %s: %w", folder, err)
			}
		}
	} else {
		if err := run(npmPath, "install"); err != nil {
			return nil, err
		}
		if err := run(npmPath, "run", "build"); err != nil {
			return nil, err
		}
		// A generated SDK's build does not copy its package.json into bin.
		if err := fsutil.CopyFile(filepath.Join(bin, "package.json"), filepath.Join(dir, "package.json"), nil); err != nil {
			return nil, fmt.Errorf("copy package.json: %w", err)
		}
	}
	fmt.Fprintln(os.Stderr, "$ npm pack")
	cmd := exec.CommandContext(ctx, npmPath, "pack", bin, "--pack-destination", req.DestinationDirectory)
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("npm pack: %w", err)
	}
	return &pulumirpc.PackResponse{
		ArtifactPath: filepath.Join(req.DestinationDirectory, strings.TrimSpace(string(out))),
	}, nil
}
