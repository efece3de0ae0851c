{{/*
The variables the chart sets itself, as ConfigMap data (YAML). _validate.tpl checks them,
with extraEnv, as the processor would; extraEnv may not repeat one of them.
*/}}
{{- define "efv.chartEnv" -}}
KAFKA_BROKERS: {{ join "," .Values.kafka.brokers | quote }}
KAFKA_GROUP_ID: {{ .Values.kafka.groupId | quote }}
{{- with .Values.kafka.clientId }}
KAFKA_CLIENT_ID: {{ . | quote }}
{{- end }}
KAFKA_START_FROM: {{ .Values.kafka.startFrom | quote }}
KAFKA_SSL: {{ or .Values.kafka.ssl (ne .Values.kafka.tls.secretName "") | toString | quote }}
{{- with .Values.kafka.tls }}
{{- if .secretName }}
{{- if .caKey }}
KAFKA_SSL_CA_FILE: {{ printf "/etc/email-flow-validator/kafka-tls/%s" .caKey | quote }}
{{- end }}
{{- if .certKey }}
KAFKA_SSL_CERT_FILE: {{ printf "/etc/email-flow-validator/kafka-tls/%s" .certKey | quote }}
{{- end }}
{{- if .keyKey }}
KAFKA_SSL_KEY_FILE: {{ printf "/etc/email-flow-validator/kafka-tls/%s" .keyKey | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.kafka.sasl.mechanism }}
KAFKA_SASL_MECHANISM: {{ . | quote }}
{{- end }}
INPUT_TOPIC: {{ .Values.kafka.topics.input | quote }}
VALID_TOPIC: {{ .Values.kafka.topics.valid | quote }}
INVALID_TOPIC: {{ .Values.kafka.topics.invalid | quote }}
DLQ_TOPIC: {{ .Values.kafka.topics.deadLetter | quote }}
DELIVERY: {{ .Values.processing.delivery | quote }}
ORDERING: {{ .Values.processing.ordering | quote }}
PARTITION_CONCURRENCY: {{ .Values.processing.partitionConcurrency | toString | quote }}
GLOBAL_CONCURRENCY: {{ .Values.processing.globalConcurrency | toString | quote }}
PARTITION_WINDOW: {{ .Values.processing.partitionWindow | toString | quote }}
FETCH_MAX_BYTES_PER_PARTITION: {{ .Values.processing.fetchMaxBytesPerPartition | toString | quote }}
VALIDATION_TIMEOUT_MS: {{ .Values.processing.validationTimeoutMs | toString | quote }}
RISKY_ROUTE: {{ .Values.processing.riskyRoute | quote }}
RETRY_DELAYS: {{ join "," .Values.processing.retryDelays | quote }}
SHUTDOWN_TIMEOUT_MS: {{ .Values.processing.shutdownTimeoutMs | toString | quote }}
{{- with .Values.schemaRegistry.url }}
SCHEMA_REGISTRY_URL: {{ . | quote }}
{{- end }}
LOG_LEVEL: {{ .Values.logLevel | quote }}
HTTP_PORT: {{ .Values.httpPort | toString | quote }}
{{- if .Values.tracing.enabled }}
OTEL_SDK_DISABLED: "false"
OTEL_TRACES_EXPORTER: "otlp"
OTEL_EXPORTER_OTLP_ENDPOINT: {{ .Values.tracing.endpoint | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ .Values.tracing.protocol | quote }}
OTEL_SERVICE_NAME: {{ .Values.tracing.serviceName | quote }}
OTEL_TRACES_SAMPLER: {{ .Values.tracing.sampler | quote }}
OTEL_TRACES_SAMPLER_ARG: {{ .Values.tracing.samplerArg | toString | quote }}
{{- else }}
OTEL_SDK_DISABLED: "true"
{{- end }}
{{- end }}

{{/*
An extraEnv value as the string the processor reads. Numbers in values files arrive as
floats; a whole one is written as an integer, never as 1e+06.
*/}}
{{- define "efv.envValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) }}{{ int64 . }}
{{- else }}{{ toString . }}
{{- end }}
{{- end }}

{{/* The ConfigMap's data as a dict: the chart's variables and extraEnv. */}}
{{- define "efv.allEnv" -}}
{{- $env := include "efv.chartEnv" . | fromYaml }}
{{- range $name, $value := .Values.extraEnv }}
{{- $_ := set $env $name (include "efv.envValue" $value) }}
{{- end }}
{{- toJson $env }}
{{- end }}
