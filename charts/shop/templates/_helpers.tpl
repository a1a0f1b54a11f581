{{/*
The release's base name: the release name, or <release>-shop when the
release name does not say shop.
*/}}
{{- define "shop.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The name of a component's objects: (dict "root" $ "name" "order"). */}}
{{- define "shop.name" -}}
{{- printf "%s-%s" (include "shop.fullname" .root) .name -}}
{{- end -}}

{{/* Labels of every object of a component: (dict "root" $ "name" "order"). */}}
{{- define "shop.labels" -}}
{{ include "shop.selectorLabels" . }}
app.kubernetes.io/part-of: shop
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* The labels that select a component's pods. */}}
{{- define "shop.selectorLabels" -}}
app.kubernetes.io/name: shop
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* The image of a component: (dict "root" $ "name" "order"). */}}
{{- define "shop.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s%s" $img.repositoryPrefix .name -}}
{{- if $img.registry -}}{{- $repo = printf "%s/%s" (trimSuffix "/" $img.registry) $repo -}}{{- end -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}

{{/* A service's values: the defaults merged with services.<name>. */}}
{{- define "shop.service" -}}
{{- $svc := get .root.Values.services .name -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.defaults) (deepCopy $svc)) -}}
{{- end -}}

{{/*
The settings a service reads, as a name: value map (its ConfigMap's data,
and the migration Job's environment): the chart's own, then env, then
services.<name>.env. The secret ones are in shop.secretEnv.
*/}}
{{- define "shop.config" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $svc := get $v.services .name -}}
{{- $identity := get $v.services "identity" -}}
{{- $env := dict
  "SHOP_HTTP_ADDR" (printf "0.0.0.0:%v" $svc.port)
  "SHOP_KAFKA_BROKERS" $v.kafka.brokers
  "SHOP_TOPIC_PARTITIONS" (toString $v.kafka.topics.partitions)
  "SHOP_TOPIC_REPLICATION_FACTOR" (toString $v.kafka.topics.replicationFactor)
  "SHOP_TOPIC_MIN_INSYNC_REPLICAS" (toString $v.kafka.topics.minInSyncReplicas)
  "SHOP_BROKER_SASL_MECHANISM" $v.kafka.sasl.mechanism
  "SHOP_BROKER_SASL_USERNAME" (ternary $v.kafka.sasl.username "" (ne $v.kafka.sasl.mechanism ""))
  "SHOP_BROKER_TLS" (toString $v.kafka.tls.enabled)
  "SHOP_BROKER_TLS_CA_FILE" (ternary "/etc/shop/broker-ca/ca.crt" "" (ne $v.kafka.tls.caSecret ""))
  "SHOP_BROKER_TLS_CERT_FILE" (ternary "/etc/shop/broker-client/tls.crt" "" (ne $v.kafka.tls.clientCertSecret ""))
  "SHOP_BROKER_TLS_KEY_FILE" (ternary "/etc/shop/broker-client/tls.key" "" (ne $v.kafka.tls.clientCertSecret ""))
  "SHOP_JWKS_URL" (printf "http://%s:%v/.well-known/jwks.json" (include "shop.name" (dict "root" $root "name" "identity")) $identity.port)
  "SHOP_DATABASE_MIGRATE" (toString (not $v.migrations.job))
  "SHOP_TRUSTED_PROXIES" $v.trustedProxies
-}}
{{- toYaml (merge (deepCopy (default dict $svc.env)) (deepCopy $v.env) $env) -}}
{{- end -}}

{{/* A service's secret settings: variable → required|optional. */}}
{{- define "shop.secretEnv" -}}
{{- $svc := get .root.Values.services .name -}}
{{- toYaml (merge (deepCopy (default dict $svc.secretEnv)) (deepCopy .root.Values.secretEnv)) -}}
{{- end -}}

{{/* The env entries that read a service's Secret. */}}
{{- define "shop.secretEnvRefs" -}}
{{- $svc := get .root.Values.services .name -}}
{{- range $key, $need := include "shop.secretEnv" . | fromYaml }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $svc.existingSecret }}
      key: {{ $key }}
      {{- if eq $need "optional" }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}

{{/* The security context of every pod: (dict "uid" 65532). */}}
{{- define "shop.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The security context of every container. */}}
{{- define "shop.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Spread a component's pods over zones and nodes: (dict "root" $ "name" "order"). */}}
{{- define "shop.topologySpread" -}}
{{- range list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
- maxSkew: 1
  topologyKey: {{ . }}
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "shop.selectorLabels" $ | nindent 6 }}
{{- end }}
{{- end -}}

{{/* The broker's TLS files, mounted where shop.config points. */}}
{{- define "shop.brokerTLSVolumes" -}}
{{- with .Values.kafka.tls }}
{{- if .caSecret }}
- name: broker-ca
  secret:
    secretName: {{ .caSecret }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- if .clientCertSecret }}
- name: broker-client
  secret:
    secretName: {{ .clientCertSecret }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "shop.brokerTLSMounts" -}}
{{- with .Values.kafka.tls }}
{{- if .caSecret }}
- name: broker-ca
  mountPath: /etc/shop/broker-ca
  readOnly: true
{{- end }}
{{- if .clientCertSecret }}
- name: broker-client
  mountPath: /etc/shop/broker-client
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{/*
The gateway's settings (its ConfigMap's data): the chart's own (the listen
port, the services' addresses, the writable state directory), then
gateway.env.
*/}}
{{- define "shop.gatewayConfig" -}}
{{- $root := . -}}
{{- $env := dict "SHOP_GATEWAY_LISTEN" "8080" "SHOP_GATEWAY_STATE_DIR" "/tmp/shop-gateway" -}}
{{- range $name, $svc := .Values.services -}}
{{- $_ := set $env (printf "SHOP_GATEWAY_%s_ADDR" (upper $name)) (printf "%s:%v" (include "shop.name" (dict "root" $root "name" $name)) $svc.port) -}}
{{- end -}}
{{- toYaml (merge $env (deepCopy .Values.gateway.env)) -}}
{{- end -}}
