// Package validate holds the offline checks of the deployment files: the
// images' Dockerfiles and binaries, the compose stack, the Helm chart
// (rendered and decoded strictly against the Kubernetes API types), and the
// parity of the SHOP_* settings between the services, compose and the chart.
// It is a module of its own so that its heavy dependencies (the Kubernetes
// API types, the compose specification, BuildKit's parser) stay out of the
// services and pkg.
package validate
