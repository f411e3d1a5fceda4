package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/blang/semver"
	"github.com/hashicorp/hcl/v2"
	hclsyntax "github.com/pulumi/pulumi/pkg/v3/codegen/hcl2/syntax"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// exitAfterUserMessage is the exit code with which the Python, Node.js and Go SDKs say
// "the error was already reported to the engine": the host then bails without a message.
const exitAfterUserMessage = 32

// host holds what the three languages share: the engine's address and the protocol's
// plain answers.
type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	language      string
	cancelCtx     context.Context
	cancel        context.CancelFunc
	stopServer    func()
}

// watchEngine stops the host when the engine at address stops answering its health
// checks (a CLI killed outright), as Pulumi's own hosts do: nothing is left running.
func (h *host) watchEngine(address string) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ctx.Done()
		h.cancel()
		h.stopServer()
	}()
	if err := rpcutil.Healthcheck(ctx, address, 5*time.Minute, cancel); err != nil {
		cancel()
	}
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if h.engineAddress == "" && req.EngineAddress != "" {
		h.watchEngine(req.EngineAddress)
	}
	h.engineAddress = req.EngineAddress
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins and GetRequiredPackages answer "none": the plugins these tests use
// are on PATH or in Pulumi.yaml's `packages`, and the CLI loads a provider when a resource
// first needs it.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	return &pulumirpc.AboutResponse{Executable: os.Args[0], Version: version}, nil
}

func (h *host) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancel()
	return &emptypb.Empty{}, nil
}

func (h *host) requireEngine() error {
	if h.engineAddress == "" {
		return errors.New("the engine's address is unknown: the CLI passes it as the first argument or in Handshake")
	}
	return nil
}

// configEnv is the stack's config and its secret keys, as the SDKs read them.
func configEnv(req *pulumirpc.RunRequest) ([]string, error) {
	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretsJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	return []string{"PULUMI_CONFIG=" + string(configJSON), "PULUMI_CONFIG_SECRET_KEYS=" + string(secretsJSON)}, nil
}

// runProgram runs a program process to its end, with the host's stdout and stderr (which
// the CLI shows), stopped with SIGINT when the run is cancelled, and turns its exit into
// the RunResponse the CLI expects.
func (h *host) runProgram(ctx context.Context, cmd *exec.Cmd) *pulumirpc.RunResponse {
	runCtx, stop := context.WithCancel(h.cancelCtx)
	defer stop()
	context.AfterFunc(ctx, stop)
	done := make(chan struct{})
	defer close(done)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start the program: %v", err)}
	}
	go func() {
		select {
		case <-runCtx.Done():
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
			}
		case <-done:
		}
	}()
	err := cmd.Wait()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.ExitStatus() == exitAfterUserMessage {
			return &pulumirpc.RunResponse{Bail: true}
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode())}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("problem executing program: %v", err)}
}

// packageGenerator is one language's SDK generator from pkg/v3/codegen.
type packageGenerator func(
	pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, loader schema.ReferenceLoader,
) (map[string][]byte, error)

// generatePackage binds the schema the CLI sends and writes the SDK the language's
// generator makes (`pulumi package gen-sdk`, `pulumi package add`).
func generatePackage(
	req *pulumirpc.GeneratePackageRequest, generate packageGenerator,
) (*pulumirpc.GeneratePackageResponse, error) {
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	loader := schema.NewCachedLoader(client)

	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.Schema), &spec); err != nil {
		return nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
	}
	files, err := generate(pkg, req, loader)
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		path := filepath.Join(req.Directory, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
}

// programGenerator is one language's program generator from pkg/v3/codegen.
type programGenerator func(program *pcl.Program) (map[string][]byte, hcl.Diagnostics, error)

// generateProgram binds the PCL the CLI sends and returns the program the language's
// generator makes (`pulumi import --out`, `pulumi convert`).
func generateProgram(
	req *pulumirpc.GenerateProgramRequest, generate programGenerator, options ...pcl.BindOption,
) (*pulumirpc.GenerateProgramResponse, error) {
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer client.Close()

	parser := hclsyntax.NewParser()
	for path, contents := range req.Source {
		if err := parser.ParseFile(strings.NewReader(contents), path); err != nil {
			return nil, err
		}
		if parser.Diagnostics.HasErrors() {
			return nil, parser.Diagnostics
		}
	}
	if !req.Strict {
		options = append(options, pcl.NonStrictBindOptions()...)
	}
	program, diags, err := pcl.BindProgram(parser.Files, schema.NewCachedLoader(client), options...)
	if err != nil {
		return nil, err
	}
	rpcDiags := plugin.HclDiagnosticsToRPCDiagnostics(diags)
	if diags.HasErrors() || program == nil {
		return &pulumirpc.GenerateProgramResponse{Diagnostics: rpcDiags}, nil
	}
	files, diags, err := generate(program)
	if err != nil {
		return nil, err
	}
	rpcDiags = append(rpcDiags, plugin.HclDiagnosticsToRPCDiagnostics(diags)...)
	return &pulumirpc.GenerateProgramResponse{Source: files, Diagnostics: rpcDiags}, nil
}

// generateProject binds the PCL directory the conformance runner sends (with output-
// versioned invokes, strictly unless asked not to, as every official host binds it) and
// hands the program and the project to the language's generator.
func generateProject(
	req *pulumirpc.GenerateProjectRequest, generate func(*pcl.Program, workspace.Project) error,
) (*pulumirpc.GenerateProjectResponse, error) {
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	options := []pcl.BindOption{pcl.PreferOutputVersionedInvokes}
	if !req.Strict {
		options = append(options, pcl.NonStrictBindOptions()...)
	}
	program, diags, err := pcl.BindDirectory(req.SourceDirectory, schema.NewCachedLoader(client), options...)
	if err != nil {
		return nil, err
	}
	if !diags.HasErrors() {
		var project workspace.Project
		if err := json.Unmarshal([]byte(req.Project), &project); err != nil {
			return nil, err
		}
		if err := generate(program, project); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.GenerateProjectResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
}

// linkedPackage loads the schema of a package `pulumi package add` generated an SDK of, with
// the language's part of it (package name, module path) imported.
func linkedPackage(
	ctx context.Context, loader schema.ReferenceLoader, dep *pulumirpc.PackageDependency,
	language string, importer schema.Language,
) (*schema.Package, error) {
	descriptor := &schema.PackageDescriptor{Name: dep.Name, DownloadURL: dep.Server}
	if v, err := semver.New(dep.Version); err == nil {
		descriptor.Version = v
	}
	ref, err := schema.LoadPackageReferenceV2(ctx, loader, descriptor)
	if err != nil {
		return nil, err
	}
	pkg, err := ref.Definition()
	if err != nil {
		return nil, err
	}
	if err := pkg.ImportLanguages(map[string]schema.Language{language: importer}); err != nil {
		return nil, err
	}
	return pkg, nil
}
