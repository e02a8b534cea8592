// Package deploy holds the configuration that runs a zkdp prover fleet: a
// nats-server config and a Kubernetes manifest. Its tests check that the
// server config is one nats-server accepts and serves from, and that the
// manifest is what the README says.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"

	"github.com/zkdp/zkdp/fleet"
)

// nats-server parses deploy/nats-server.conf with JetStream on, and a server
// started from it (store and port moved for the test) takes a zkdp client
// with the password and refuses one without.
func TestNATSServerConfig(t *testing.T) {
	t.Setenv("ZKDP_QUEUE_PASSWORD", "test-password")
	opts, err := server.ProcessConfigFile("nats-server.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !opts.JetStream || opts.StoreDir == "" || opts.MaxPayload < 1<<20 || len(opts.Users) != 1 {
		t.Fatalf("jetstream %v, store %q, max payload %d, users %d", opts.JetStream, opts.StoreDir, opts.MaxPayload, len(opts.Users))
	}
	opts.StoreDir, opts.Host, opts.Port, opts.HTTPPort, opts.NoSigs, opts.NoLog = t.TempDir(), "127.0.0.1", server.RANDOM_PORT, 0, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(10e9) {
		t.Fatal("server not ready")
	}
	if _, err := fleet.Connect(fleet.Config{URL: s.ClientURL()}, "t"); err == nil {
		t.Error("connected without the password")
	}
	nc, err := fleet.Connect(fleet.Config{URL: s.ClientURL(), User: "zkdp", Password: "test-password"}, "t")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}

// The manifest's documents parse; the workers run `zkdp worker` against the
// NATS service with the run key from a secret that only its owner can read
// and a key-cache volume; the NATS server in the ConfigMap is the one of
// nats-server.conf.
func TestKubernetesManifest(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("k8s", "zkdp-fleet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if d == nil {
			continue
		}
		docs[d["kind"].(string)+"/"+get(t, d, "metadata", "name").(string)] = d
	}
	for _, k := range []string{"ConfigMap/nats-config", "Service/nats", "StatefulSet/nats", "PersistentVolumeClaim/zkdp-keys", "Deployment/zkdp-worker"} {
		if docs[k] == nil {
			t.Fatalf("no %s in the manifest", k)
		}
	}
	pod := get(t, docs["Deployment/zkdp-worker"], "spec", "template", "spec").(map[string]any)
	c := pod["containers"].([]any)[0].(map[string]any)
	var args []string
	for _, a := range c["args"].([]any) {
		args = append(args, a.(string))
	}
	i := slices.Index(args, "--queue")
	if args[0] != "worker" || i < 0 || args[i+1] != "nats://nats.zkdp.svc:4222" || !slices.Contains(args, "--run-key") || !slices.Contains(args, "--keys") {
		t.Errorf("worker args %v", args)
	}
	vols := map[string]map[string]any{}
	for _, v := range pod["volumes"].([]any) {
		vols[v.(map[string]any)["name"].(string)] = v.(map[string]any)
	}
	secret, _ := vols["run-key"]["secret"].(map[string]any)
	if secret == nil || secret["secretName"] != "zkdp-run-key" || secret["defaultMode"] != 0o400 {
		t.Errorf("run-key volume %v: want secret zkdp-run-key with defaultMode 0400 (zkdp refuses a key others can read)", vols["run-key"])
	}
	if vols["keys"]["persistentVolumeClaim"] == nil {
		t.Errorf("no key-cache volume")
	}
	conf := get(t, docs["ConfigMap/nats-config"], "data", "nats-server.conf").(string)
	path := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ZKDP_QUEUE_PASSWORD", "x")
	opts, err := server.ProcessConfigFile(path)
	if err != nil || !opts.JetStream || !strings.HasPrefix(opts.StoreDir, "/data") {
		t.Fatalf("the ConfigMap's server config: %+v, %v", opts != nil && opts.JetStream, err)
	}
}

func get(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no %s", strings.Join(path, "."))
		}
		v = mm[p]
	}
	return v
}
