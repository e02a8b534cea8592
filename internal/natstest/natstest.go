// Package natstest starts a real nats-server with JetStream, TLS (mutual,
// with a throwaway CA made in the test) and NKey authentication, the way an
// operator runs one for a prover fleet, and hands tests the files a client
// needs and files that must be refused.
package natstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// Secure is a running server that requires TLS with a client certificate
// and an authorized NKey, and the files of a client that has them.
type Secure struct {
	// URL is tls://127.0.0.1:PORT.
	URL string
	// CA is the CA the server's certificate chains to; Cert and Key are a
	// client certificate it issued.
	CA, Cert, Key string
	// Seed is an NKey user seed the server authorizes.
	Seed string
	// OtherCA is a CA that issued nothing the server uses; OtherCert and
	// OtherKey are a client certificate from it.
	OtherCA, OtherCert, OtherKey string
	// OtherSeed is a valid NKey user seed the server does not know.
	OtherSeed string
	// Config is the server's nats-server configuration file.
	Config string
}

// StartSecure writes a throwaway CA, the server's and a client's
// certificates and two NKey users into a temporary folder, starts a
// nats-server from a configuration file naming them (as deploy/ does with
// TLS and NKeys enabled), and shuts it down when t ends.
func StartSecure(t testing.TB) *Secure {
	t.Helper()
	dir := t.TempDir()
	s := &Secure{Config: filepath.Join(dir, "nats-server.conf")}
	ca, caKey := newCA(t, dir, "ca", "zkdp test CA")
	s.CA = filepath.Join(dir, "ca.pem")
	srvCert, srvKey := issue(t, dir, "server", ca, caKey, x509.ExtKeyUsageServerAuth)
	s.Cert, s.Key = issue(t, dir, "client", ca, caKey, x509.ExtKeyUsageClientAuth)
	other, otherKey := newCA(t, dir, "other-ca", "a stranger's CA")
	s.OtherCA = filepath.Join(dir, "other-ca.pem")
	s.OtherCert, s.OtherKey = issue(t, dir, "other-client", other, otherKey, x509.ExtKeyUsageClientAuth)
	var pub string
	s.Seed, pub = newUser(t, dir, "user.nk")
	s.OtherSeed, _ = newUser(t, dir, "other-user.nk")

	conf := fmt.Sprintf(`server_name: zkdp-test
listen: 127.0.0.1:-1
jetstream { store_dir: %q }
tls {
  cert_file: %q
  key_file: %q
  ca_file: %q
  verify: true
  timeout: 5
}
authorization {
  users = [ { nkey: %s } ]
}
`, filepath.Join(dir, "js"), srvCert, srvKey, s.CA, pub)
	write(t, s.Config, []byte(conf))
	opts, err := server.ProcessConfigFile(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	opts.NoSigs, opts.NoLog = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(30 * time.Second) {
		t.Fatal("the TLS nats-server did not start")
	}
	s.URL = strings.Replace(srv.ClientURL(), "nats://", "tls://", 1)
	return s
}

func newCA(t testing.TB, dir, name, cn string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return cert, key
}

// issue writes NAME.pem and NAME-key.pem, a certificate for 127.0.0.1 and
// localhost signed by ca, and returns their paths.
func issue(t testing.TB, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	write(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	write(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return certFile, keyFile
}

// newUser writes an NKey user seed file (as nk -gen user does) and returns
// its path and the user's public key.
func newUser(t testing.TB, dir, name string) (seedFile, public string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	if public, err = kp.PublicKey(); err != nil {
		t.Fatal(err)
	}
	seedFile = filepath.Join(dir, name)
	write(t, seedFile, append(seed, '\n'))
	return seedFile, public
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
