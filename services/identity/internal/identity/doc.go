// Package identity holds the rules of the identity service: accounts
// (registration, the password policy, roles, disabling), sessions (login,
// refresh-token rotation with reuse detection, logout) and the security audit
// trail that every one of those actions leaves.
//
// It imports no web framework, ORM or broker client. Its collaborators are
// small interfaces declared here: a Store (transactions over users, refresh
// tokens and the audit log, which also writes the outbox), a Hasher
// (bcrypt), a Signer (access tokens) and a LoginThrottle (failure counters in
// Redis). Every security-relevant change and its audit record, and so its
// event, commit in one transaction.
package identity
