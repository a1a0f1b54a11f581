// Package testkit gives tests real infrastructure, isolated per test:
// a fresh PostgreSQL database on the local server (dropped afterwards), a
// private redis-server process on a free port, and an in-process
// Kafka-protocol broker (kfake) with a data directory, on a free port.
//
// Nothing is mocked. A missing server is a test failure, never a skip: CI
// (.ci/run) and `make up` install and start PostgreSQL and Redis.
package testkit
