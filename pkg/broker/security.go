package broker

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// The SASL mechanisms Mechanism accepts. SCRAM is what Redpanda and most
// Kafka clusters use; PLAIN sends the password itself and belongs only on TLS.
const (
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
	Plain       = "PLAIN"
)

// Mechanisms lists the names Mechanism accepts.
var Mechanisms = []string{ScramSHA256, ScramSHA512, Plain}

// Mechanism returns the SASL mechanism called name for username and
// password; an empty name means no SASL (nil).
func Mechanism(name, username, password string) (sasl.Mechanism, error) {
	if name == "" {
		return nil, nil
	}
	if username == "" || password == "" {
		return nil, fmt.Errorf("SASL %s needs a username and a password", name)
	}
	switch name {
	case ScramSHA256:
		return scram.Mechanism(scram.SHA256, username, password)
	case ScramSHA512:
		return scram.Mechanism(scram.SHA512, username, password)
	case Plain:
		return plain.Mechanism{Username: username, Password: password}, nil
	}
	return nil, fmt.Errorf("unknown SASL mechanism %q (want one of %v)", name, Mechanisms)
}

// TLSFiles are the PEM files of a TLS connection to the brokers.
type TLSFiles struct {
	// CA verifies the brokers' certificates; empty uses the system roots.
	CA string
	// Cert and Key are a client certificate, for brokers that ask for one
	// (both or neither).
	Cert, Key string
}

// TLSConfig returns the TLS configuration of files (TLS 1.2 at least).
func TLSConfig(files TLSFiles) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if files.CA != "" {
		pem, err := os.ReadFile(files.CA)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", files.CA)
		}
		cfg.RootCAs = pool
	}
	if (files.Cert == "") != (files.Key == "") {
		return nil, errors.New("a client certificate needs both its certificate and its key file")
	}
	if files.Cert != "" {
		pair, err := tls.LoadX509KeyPair(files.Cert, files.Key)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// ErrAuth marks an error that retrying cannot cure: the brokers refused the
// SASL credentials, or their TLS certificate is not trusted.
var ErrAuth = errors.New("broker authentication failed")

// authFailure marks err with ErrAuth when it is such an error, with a hint
// at what to check.
func authFailure(err error) error {
	var unverified *tls.CertificateVerificationError
	switch {
	case err == nil || errors.Is(err, ErrAuth):
		return err
	case errors.Is(err, kafka.SASLAuthenticationFailed), errors.Is(err, kafka.IllegalSASLState):
		return fmt.Errorf("%w: the broker refused the SASL username or password: %w", ErrAuth, err)
	case errors.Is(err, kafka.UnsupportedSASLMechanism):
		return fmt.Errorf("%w: the broker does not offer this SASL mechanism: %w", ErrAuth, err)
	case errors.As(err, &unverified):
		return fmt.Errorf("%w: the broker's TLS certificate is not trusted: %w", ErrAuth, err)
	}
	return err
}
