package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// GetRequiredPackages reports the Pulumi packages a Node.js program's node_modules hold,
// by the rule of Pulumi's own Node.js host (sdk/nodejs/cmd/pulumi-language-nodejs,
// GetRequiredPackages), which decides which plugins the CLI installs and which version a
// default provider is pinned to: every package.json under a node_modules directory, at any
// depth below the program (links followed once; nested policy packs left out), whose
// "pulumi" section says "resource": true. Its plugin is that section's name, else the
// package's own name if it is @pulumi/<name> (a third-party package without one is left
// out), and that section's version, else the package's, with a "v". Problems are logged,
// not fatal, as there.
func (h *nodejsHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages := []*pulumirpc.PackageDependency{}
	walk := nodePackageWalk{seen: map[string]bool{}}
	walk.dir(req.Info.ProgramDirectory, false, &packages)
	for _, err := range walk.problems {
		logging.V(3).Infof("GetRequiredPackages: %v", err)
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

type nodePackageWalk struct {
	seen     map[string]bool // directories walked, resolved (a link to one is walked once)
	problems []error
}

func (w *nodePackageWalk) dir(dir string, inNodeModules bool, found *[]*pulumirpc.PackageDependency) {
	dir, err := filepath.Abs(dir)
	if err != nil || w.seen[dir] {
		return
	}
	w.seen[dir] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.problems = append(w.problems, err)
		return
	}
	below := inNodeModules || filepath.Base(dir) == "node_modules"
	for _, entry := range entries {
		path := filepath.Join(dir, entry.Name())
		isDir := entry.IsDir()
		if entry.Type()&os.ModeSymlink != 0 {
			resolved, err := filepath.EvalSymlinks(path)
			if err != nil {
				w.problems = append(w.problems, err)
				continue
			}
			info, err := os.Stat(resolved)
			if err != nil {
				w.problems = append(w.problems, err)
				continue
			}
			path, isDir = resolved, info.IsDir()
		}
		switch {
		case isDir:
			if pack, err := workspace.DetectPolicyPackPathAt(path); err != nil || pack != "" {
				continue // a policy pack's plugins are not the program's
			}
			w.dir(path, below, found)
		case inNodeModules && entry.Name() == "package.json":
			dep, err := nodePackage(path)
			if err != nil {
				w.problems = append(w.problems, fmt.Errorf("%s: %w", path, err))
			} else if dep != nil {
				*found = append(*found, dep)
			}
		}
	}
}

// nodePackage is the plugin the package.json at path stands for (nil: none).
func nodePackage(path string) (*pulumirpc.PackageDependency, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var manifest struct {
		Name    string                  `json:"name"`
		Version string                  `json:"version"`
		Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		return nil, err
	}
	meta := manifest.Pulumi
	if !meta.Resource {
		return nil, nil
	}
	name := meta.Name
	if name == "" {
		simple, scoped := strings.CutPrefix(manifest.Name, "@pulumi/")
		if !scoped {
			return nil, fmt.Errorf("the third-party package %q names no plugin (\"pulumi\": {\"name\": …})", manifest.Name)
		}
		name = simple
	}
	version := meta.Version
	if version == "" {
		version = manifest.Version
	}
	if version == "" {
		return nil, errors.New(`no "version"`)
	}
	return resourcePackage(&meta, name, version), nil
}

// GetProgramDependencies lists the program's packages (`pulumi about`, and the
// conformance runner's check that the core SDK is installed) through the project's
// package manager, as Pulumi's Node.js host does.
func (h *nodejsHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	manager, err := resolvedPackageManager(req.Info)
	if err != nil {
		return nil, err
	}
	installed, err := manager.ListPackages(ctx, req.Info.ProgramDirectory, req.TransitiveDependencies)
	if err != nil {
		return nil, fmt.Errorf("listing the program's Node.js packages: %w", err)
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: dependencyInfos(installed)}, nil
}
