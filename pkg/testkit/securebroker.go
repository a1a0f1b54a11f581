package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/localbroker"
)

// SecureBroker starts an in-process broker, as Broker does, that speaks TLS
// only and requires SASL as one of users. It returns the broker and a CA
// file (PEM) that verifies its certificate, for SHOP_BROKER_TLS_CA_FILE.
func SecureBroker(t testing.TB, users ...localbroker.User) (*localbroker.Broker, string) {
	t.Helper()
	ca := newTestCA(t)
	b := startTLSBroker(t, users, &tls.Config{Certificates: []tls.Certificate{ca.issue(t, true).pair}, MinVersion: tls.VersionTLS12})
	return b, ca.file
}

// ClientTLS are the PEM files of a client of a mutual-TLS broker.
type ClientTLS struct {
	CAFile, CertFile, KeyFile string
}

// MutualTLSBroker starts an in-process broker that speaks TLS only and
// accepts only clients with a certificate its CA signed. It returns the
// broker and the files of such a client.
func MutualTLSBroker(t testing.TB) (*localbroker.Broker, ClientTLS) {
	t.Helper()
	ca := newTestCA(t)
	b := startTLSBroker(t, nil, &tls.Config{
		Certificates: []tls.Certificate{ca.issue(t, true).pair}, MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool,
	})
	client := ca.issue(t, false)
	dir := t.TempDir()
	files := ClientTLS{CAFile: ca.file, CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client-key.pem")}
	writeFile(t, files.CertFile, client.certPEM)
	writeFile(t, files.KeyFile, client.keyPEM)
	return b, files
}

func startTLSBroker(t testing.TB, users []localbroker.User, cfg *tls.Config) *localbroker.Broker {
	t.Helper()
	b, err := localbroker.Start(localbroker.Config{DataDir: t.TempDir(), Partitions: 6, Users: users, TLS: cfg})
	if err != nil {
		t.Fatalf("start test broker: %v", err)
	}
	t.Cleanup(b.Stop)
	return b
}

// testCA is a certificate authority made for one test, valid for an hour.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	file string // its certificate, PEM
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shop test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{cert: cert, key: key, pool: x509.NewCertPool(), file: filepath.Join(t.TempDir(), "ca.pem")}
	ca.pool.AddCert(cert)
	writeFile(t, ca.file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return ca
}

type issued struct {
	pair            tls.Certificate
	certPEM, keyPEM []byte
}

// issue signs a certificate for 127.0.0.1 and localhost: a server's, or a
// client's.
func (ca *testCA) issue(t testing.TB, server bool) issued {
	t.Helper()
	key := newKey(t)
	usage := x509.ExtKeyUsageClientAuth
	if server {
		usage = x509.ExtKeyUsageServerAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return issued{
		pair:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writeFile(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
