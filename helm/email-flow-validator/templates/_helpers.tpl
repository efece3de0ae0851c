{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "efv.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release-chart unless the release name already holds it. */}}
{{- define "efv.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "efv.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "efv.selectorLabels" -}}
app.kubernetes.io/name: {{ include "efv.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "efv.labels" -}}
helm.sh/chart: {{ include "efv.chart" . }}
{{ include "efv.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: processor
{{- end }}

{{- define "efv.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "efv.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "efv.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* Name of the Secret the pods read: the user's existingSecret or the one this chart makes. */}}
{{- define "efv.secretName" -}}
{{- .Values.existingSecret | default (include "efv.fullname" .) }}
{{- end }}

{{/*
Seconds Kubernetes waits between SIGTERM and SIGKILL: the processor's drain deadline
(rounded up to whole seconds) plus room to publish, commit and leave the group. Derived, so
raising processing.shutdownTimeoutMs can never leave the kubelet killing a draining pod.
*/}}
{{- define "efv.terminationGracePeriodSeconds" -}}
{{- $ms := int .Values.processing.shutdownTimeoutMs }}
{{- add (div (add $ms 999) 1000) (int .Values.terminationGraceExtraSeconds) }}
{{- end }}

{{/* The replica ceiling in force: the static count, or the autoscaler's maximum. */}}
{{- define "efv.maxReplicas" -}}
{{- if .Values.keda.enabled }}
{{- int .Values.keda.maxReplicaCount }}
{{- else if .Values.autoscaling.enabled }}
{{- int .Values.autoscaling.maxReplicas }}
{{- else }}
{{- int .Values.replicaCount }}
{{- end }}
{{- end }}

{{/* KEDA's and KafkaJS's spelling of a SASL mechanism differ: scram-sha-256 → scram_sha256. */}}
{{- define "efv.kedaSasl" -}}
{{- $m := .Values.kafka.sasl.mechanism }}
{{- if eq $m "plain" }}plaintext
{{- else if eq $m "scram-sha-256" }}scram_sha256
{{- else if eq $m "scram-sha-512" }}scram_sha512
{{- else }}none
{{- end }}
{{- end }}

{{/* The TCP port of an http(s) URL: the one it names, else its scheme's. */}}
{{- define "efv.urlPort" -}}
{{- $rest := regexReplaceAll "^[a-zA-Z][a-zA-Z0-9+.-]*://" . "" }}
{{- $hostport := regexReplaceAll "[/?#].*$" $rest "" }}
{{- $port := regexFind ":[0-9]+$" $hostport | trimPrefix ":" }}
{{- if $port }}{{ $port }}
{{- else if hasPrefix "https:" (lower .) }}443
{{- else }}80
{{- end }}
{{- end }}
