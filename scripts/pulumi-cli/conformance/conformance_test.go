// Package conformance runs Pulumi's language conformance suite (pkg/v3's
// pulumi-test-language, the test service Pulumi runs against every official language
// host) against this project's hosts, as each official host's language_test.go does:
// PrepareLanguageTests against a host, then RunLanguageTest for each test. Generated code
// is written, not compared (Pulumi's snapshots live in a module the proxy refuses).
//
//	PINGBACK_PULUMI_BIN=<the build's bin> go test ./conformance -run 'TestPython/l1-' -v
package conformance

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	testingrpc "github.com/pulumi/pulumi/sdk/v3/proto/go/testing"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// sdkVersion is the Pulumi SDK the build pins (go.mod), whose Python source is the core SDK.
const sdkVersion = "3.274.1"

func started(t *testing.T, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "PULUMI_ACCEPT=true")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil && line == "" {
		t.Fatalf("%s printed no address: %v", name, err)
	}
	return strings.TrimSpace(line)
}

// TestPython runs the suite against the Python host, with the core SDK packed from the
// sdk/v3 module's python folder.
func TestPython(t *testing.T) {
	suite(t, "python", func(sdk string) string { return filepath.Join(sdk, "python") })
}

// TestNodejs runs the suite against the Node.js host, with @pulumi/pulumi built and packed
// from a copy of the sdk/v3 module's nodejs folder (npm ci writes node_modules beside its
// package.json, and the module cache is read-only).
func TestNodejs(t *testing.T) {
	suite(t, "nodejs", func(sdk string) string {
		tmp := t.TempDir()
		core := filepath.Join(tmp, "nodejs")
		if err := os.CopyFS(core, os.DirFS(filepath.Join(sdk, "nodejs"))); err != nil {
			t.Fatal(err)
		}
		// A Go module's zip leaves out every vendor folder, so the ts-node and TypeScript
		// the SDK vendors (unchanged since April 2024) come from its newest release on npm
		// at or before this version.
		pack := exec.Command("npm", "pack", "@pulumi/pulumi@<="+sdkVersion, "--pack-destination", tmp)
		name, err := pack.Output()
		if err != nil {
			t.Fatalf("%s: %v", pack, err)
		}
		untar := exec.Command("tar", "-xzf", filepath.Join(tmp, strings.TrimSpace(string(name))),
			"-C", core, "--strip-components=1", "package/vendor")
		if out, err := untar.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", untar, err, out)
		}
		return core
	})
}

// suite prepares the language tests against one of the build's hosts, then runs each.
func suite(t *testing.T, language string, coreSDK func(sdkModule string) string) {
	t.Parallel()
	bin := os.Getenv("PINGBACK_PULUMI_BIN")
	if bin == "" {
		t.Skip("PINGBACK_PULUMI_BIN names the build's bin (scripts/pulumi-cli/build prints it)")
	}
	tmp := t.TempDir()
	service := filepath.Join(tmp, "pulumi-test-language")
	build := exec.Command("go", "build", "-o", service, "github.com/pulumi/pulumi/pkg/v3/testing/pulumi-test-language")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test service: %v\n%s", err, out)
	}
	engine := started(t, service)
	host := started(t, filepath.Join(bin, "pulumi-language-"+language), engine)

	conn, err := grpc.NewClient(engine, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := testingrpc.NewLanguageTestClient(conn)
	ctx := context.Background()
	tests, err := client.GetLanguageTests(ctx, &testingrpc.GetLanguageTestsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	sdk := filepath.Join(strings.TrimSpace(string(modcache)), "github.com/pulumi/pulumi/sdk/v3@v"+sdkVersion)
	prepared, err := client.PrepareLanguageTests(ctx, &testingrpc.PrepareLanguageTestsRequest{
		LanguagePluginName:   language,
		LanguagePluginTarget: "127.0.0.1:" + host,
		TemporaryDirectory:   filepath.Join(tmp, "work"),
		SnapshotDirectory:    filepath.Join(tmp, "snapshots"),
		CoreSdkDirectory:     coreSDK(sdk),
		CoreSdkVersion:       sdkVersion,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range tests.Tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			result, err := client.RunLanguageTest(ctx, &testingrpc.RunLanguageTestRequest{
				Token: prepared.Token, Test: name,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !result.Success {
				t.Errorf("%s failed:\n%s\n-- stdout\n%s\n-- stderr\n%s", name,
					strings.Join(result.Messages, "\n"), tail(result.Stdout), tail(result.Stderr))
			}
		})
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}
