package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// GetRequiredPackages reports the Pulumi packages a Python program's environment holds,
// by the rule of Pulumi's own Python host (sdk/python/cmd/pulumi-language-python,
// GetRequiredPackages), which decides which plugins the CLI installs and which version
// a default provider is pinned to:
//
//   - every installed distribution (the toolchain's ListPackages, transitive) that has a
//     pulumi-plugin.json in the directory of its package (the module named after the
//     distribution), or whose name starts with "pulumi-" — but pulumi-policy and
//     pulumi-esc-sdk, which the official host knows to have no plugin;
//   - one whose pulumi-plugin.json does not say "resource": true is not a plugin;
//   - the plugin's name and version are pulumi-plugin.json's, or else the distribution's
//     name without "pulumi-" and its version made semver (pep440ToSemver); a version that
//     cannot be made semver leaves the package out.
func (h *pythonHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, err := pythonToolchain(req.Info, false)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	installed, err := tc.ListPackages(ctx, true)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(installed))
	for _, dist := range installed {
		names = append(names, dist.Name)
	}
	// One interpreter for all: where each distribution's pulumi-plugin.json is, if any.
	cmd, err := tc.Command(ctx, append([]string{"-c", pluginJSONScript}, names...)...)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("finding the pulumi-plugin.json files of the environment: %w", err)
	}
	var paths map[string]string
	if err := json.Unmarshal(out, &paths); err != nil {
		return nil, fmt.Errorf("reading where the pulumi-plugin.json files are: %w", err)
	}

	packages := []*pulumirpc.PackageDependency{}
	for _, dist := range installed {
		dep, err := packageOf(dist, paths[dist.Name])
		if err != nil {
			return nil, err
		}
		if dep != nil {
			packages = append(packages, dep)
		}
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// pluginJSONScript prints {distribution: path of its pulumi-plugin.json, or ""}: the file
// in the package directory of the module named after the distribution (an editable
// install's source directory included).
const pluginJSONScript = `
import importlib.metadata, importlib.util, json, os, sys
found = {}
for name in sys.argv[1:]:
    path = ""
    try:
        module = importlib.metadata.distribution(name).metadata["Name"].replace("-", "_")
        spec = importlib.util.find_spec(module)
        for where in (spec.submodule_search_locations or []) if spec else []:
            candidate = os.path.join(str(where), "pulumi-plugin.json")
            if os.path.isfile(candidate):
                path = candidate
                break
    except Exception:
        pass
    found[name] = path
print(json.dumps(found))
`

// packagesWithoutPlugins are named pulumi-* but have no plugin (the official host's list).
var packagesWithoutPlugins = map[string]bool{"pulumi-policy": true, "pulumi-esc-sdk": true}

// packageOf is the package a distribution stands for (nil: none), given the path of its
// pulumi-plugin.json ("" for none).
func packageOf(dist plugin.DependencyInfo, pluginJSON string) (*pulumirpc.PackageDependency, error) {
	if packagesWithoutPlugins[dist.Name] {
		return nil, nil
	}
	var meta *plugin.PulumiPluginJSON
	if pluginJSON != "" {
		data, err := os.ReadFile(pluginJSON)
		if err != nil {
			return nil, err
		}
		meta = &plugin.PulumiPluginJSON{}
		if err := json.Unmarshal(data, meta); err != nil {
			return nil, fmt.Errorf("%s of %s: %w", pluginJSON, dist.Name, err)
		}
	}
	if meta == nil {
		if !strings.HasPrefix(dist.Name, "pulumi-") {
			return nil, nil
		}
		meta = &plugin.PulumiPluginJSON{Resource: true} // named and versioned by the distribution
	}
	if !meta.Resource {
		return nil, nil
	}
	name := meta.Name
	if name == "" {
		name = strings.TrimPrefix(dist.Name, "pulumi-")
	}
	version := meta.Version
	if version == "" {
		semver, ok := pep440ToSemver(dist.Version)
		if !ok {
			return nil, nil
		}
		version = semver
	}
	return resourcePackage(meta, name, version), nil
}

var pep440 = regexp.MustCompile(`^(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?$`)

// pep440ToSemver makes a Python release version semver, as the official host does: at
// least three numbers (1.0 -> 1.0.0), a pre-release as -alpha.N, -beta.N or -rc.N, and
// .postN/.devN as build metadata (+postN, +devN, +postNdevM). Epochs, local versions and
// other forms are not plugin versions (false).
func pep440ToSemver(version string) (string, bool) {
	m := pep440.FindStringSubmatch(version)
	if m == nil {
		return "", false
	}
	numbers := strings.Split(m[1], ".")
	for len(numbers) < 3 {
		numbers = append(numbers, "0")
	}
	out := strings.Join(numbers, ".")
	if m[2] != "" {
		out += "-" + map[string]string{"a": "alpha", "b": "beta", "rc": "rc"}[m[2]] + "." + m[3]
	}
	build := ""
	if m[4] != "" {
		build += "post" + m[4]
	}
	if m[5] != "" {
		build += "dev" + m[5]
	}
	if build != "" {
		out += "+" + build
	}
	return out, true
}

// GetProgramDependencies lists what the program's virtualenv holds (`pulumi about`, and
// the conformance runner's check that the core SDK is installed), from the toolchain's
// ListPackages, as Pulumi's Python host does.
func (h *pythonHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := pythonToolchain(req.Info, false)
	if err != nil {
		return nil, err
	}
	installed, err := tc.ListPackages(ctx, req.TransitiveDependencies)
	if err != nil {
		return nil, fmt.Errorf("listing the program's Python packages: %w", err)
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: dependencyInfos(installed)}, nil
}
