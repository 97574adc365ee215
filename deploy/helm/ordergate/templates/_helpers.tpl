{{/* The chart's name, or nameOverride. */}}
{{- define "ordergate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's objects' name: RELEASE-ordergate, or RELEASE when it already says ordergate. */}}
{{- define "ordergate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "ordergate.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ordergate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ordergate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ordergate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "ordergate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The Secret that holds the secret variables. */}}
{{- define "ordergate.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "ordergate.fullname" .) -}}
{{- end -}}

{{/* The ConfigMap of the inventory and clients files (the chart's own, or existing ones). */}}
{{- define "ordergate.filesConfigMap" -}}
{{- printf "%s-files" (include "ordergate.fullname" .) -}}
{{- end -}}

{{/* The highest replica count an autoscaler may choose: its maxReplicas, else the partitions. */}}
{{- define "ordergate.maxReplicas" -}}
{{- if and .max (ne (int .max) 0) -}}{{ int .max }}{{- else -}}{{ int .partitions }}{{- end -}}
{{- end -}}

{{/* KEDA's spelling of the SASL mechanism. */}}
{{- define "ordergate.kedaSasl" -}}
{{- get (dict "PLAIN" "plaintext" "SCRAM-SHA-256" "scram_sha256" "SCRAM-SHA-512" "scram_sha512") (upper .Values.kafka.sasl.mechanism) -}}
{{- end -}}

{{/*
The checks that values.schema.json cannot make, each a fail with the reason: the worker count
against the input's partitions, the grace period against the shutdown timeout, one inventory,
one autoscaler, one monitor, and the settings that only work together.
*/}}
{{- define "ordergate.validate" -}}
{{- $v := .Values -}}
{{- $partitions := int $v.kafka.inputPartitions -}}
{{- if lt $partitions 1 -}}
{{- fail "kafka.inputPartitions must be the input topic's partition count (at least 1)" -}}
{{- end -}}
{{- if and $v.autoscaling.keda.enabled $v.autoscaling.hpa.enabled -}}
{{- fail "autoscaling.keda.enabled and autoscaling.hpa.enabled: choose one autoscaler" -}}
{{- end -}}
{{- $scaler := "" -}}
{{- if $v.autoscaling.keda.enabled }}{{ $scaler = "keda" }}{{ end -}}
{{- if $v.autoscaling.hpa.enabled }}{{ $scaler = "hpa" }}{{ end -}}
{{- if $scaler -}}
{{- $a := get $v.autoscaling $scaler -}}
{{- $max := int (include "ordergate.maxReplicas" (dict "max" $a.maxReplicas "partitions" $partitions)) -}}
{{- if gt $max $partitions -}}
{{- fail (printf "autoscaling.%s.maxReplicas (%d) is above kafka.inputPartitions (%d): a consumer group never gives a partition to more than one worker, so workers beyond the partitions would be idle. See docs/deploy.md#kubernetes" $scaler $max $partitions) -}}
{{- end -}}
{{- if gt (int $a.minReplicas) $max -}}
{{- fail (printf "autoscaling.%s.minReplicas (%d) is above its maxReplicas (%d)" $scaler (int $a.minReplicas) $max) -}}
{{- end -}}
{{- if and (eq $scaler "hpa") (lt (int $a.minReplicas) 1) -}}
{{- fail "autoscaling.hpa.minReplicas must be at least 1 (only KEDA scales to 0)" -}}
{{- end -}}
{{- else if gt (int $v.replicaCount) $partitions -}}
{{- fail (printf "replicaCount (%d) is above kafka.inputPartitions (%d): a consumer group never gives a partition to more than one worker, so workers beyond the partitions would be idle. See docs/deploy.md#kubernetes" (int $v.replicaCount) $partitions) -}}
{{- end -}}
{{- if le (int $v.terminationGracePeriodSeconds) (int $v.shutdownTimeoutSeconds) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be above shutdownTimeoutSeconds (%d): the kubelet would kill a worker still publishing and committing" (int $v.terminationGracePeriodSeconds) (int $v.shutdownTimeoutSeconds)) -}}
{{- end -}}
{{- $file := or $v.inventory.file.content $v.inventory.file.existingConfigMap -}}
{{- if and $v.inventory.url $file -}}
{{- fail "inventory.url and inventory.file: set only one inventory" -}}
{{- end -}}
{{- if not (or $v.inventory.url $file) -}}
{{- fail "inventory.url or inventory.file: ordergate run needs an inventory" -}}
{{- end -}}
{{- if and $v.inventory.file.content $v.inventory.file.existingConfigMap -}}
{{- fail "inventory.file.content and inventory.file.existingConfigMap: set only one" -}}
{{- end -}}
{{- if and $v.clients.content $v.clients.existingConfigMap -}}
{{- fail "clients.content and clients.existingConfigMap: set only one" -}}
{{- end -}}
{{- if and $v.metrics.serviceMonitor.enabled $v.metrics.podMonitor.enabled -}}
{{- fail "metrics.serviceMonitor.enabled and metrics.podMonitor.enabled: choose one (both would scrape every worker twice)" -}}
{{- end -}}
{{- if and $v.metrics.serviceMonitor.enabled (not $v.service.enabled) -}}
{{- fail "metrics.serviceMonitor.enabled needs service.enabled (or use metrics.podMonitor)" -}}
{{- end -}}
{{- if and $v.kafka.sasl.mechanism (not $v.kafka.sasl.username) -}}
{{- fail "kafka.sasl.username is required with kafka.sasl.mechanism" -}}
{{- end -}}
{{- if and $v.kafka.sasl.username (not $v.kafka.sasl.mechanism) -}}
{{- fail "kafka.sasl.username is set without kafka.sasl.mechanism" -}}
{{- end -}}
{{- if and (or $v.kafka.tls.caSecret $v.kafka.tls.clientCertSecret) (not $v.kafka.tls.enabled) -}}
{{- fail "kafka.tls.caSecret or kafka.tls.clientCertSecret is set while kafka.tls.enabled is false: the worker would connect in clear text" -}}
{{- end -}}
{{- if not $v.secrets.existingSecret -}}
{{- if not $v.secrets.redisUrl -}}
{{- fail "secrets.redisUrl (or secrets.existingSecret) is required: ORDERGATE_REDIS_URL" -}}
{{- end -}}
{{- if and $v.kafka.sasl.mechanism (not $v.secrets.kafkaSaslPassword) -}}
{{- fail "secrets.kafkaSaslPassword (or secrets.existingSecret) is required with kafka.sasl.mechanism" -}}
{{- end -}}
{{- end -}}
{{- end -}}
