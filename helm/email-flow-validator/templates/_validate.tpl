{{/*
Rules that span several values, which values.schema.json cannot express. Each failure says
which value to change. Included from deployment.yaml so that any render runs them.
*/}}
{{- define "efv.validate" -}}
{{- $partitions := int .Values.kafka.inputPartitions }}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled }}
{{- fail "autoscaling.enabled and keda.enabled are mutually exclusive: KEDA creates its own HorizontalPodAutoscaler; enable one of them" }}
{{- end }}
{{- if and (not .Values.autoscaling.enabled) (not .Values.keda.enabled) (gt (int .Values.replicaCount) $partitions) }}
{{- fail (printf "replicaCount (%d) must not exceed kafka.inputPartitions (%d): a consumer beyond the partition count gets no partition" (int .Values.replicaCount) $partitions) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- fail (printf "autoscaling.maxReplicas (%d) must not exceed kafka.inputPartitions (%d): a consumer beyond the partition count gets no partition" (int .Values.autoscaling.maxReplicas) $partitions) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (not .Values.autoscaling.targetCPUUtilizationPercentage) (not .Values.autoscaling.targetMemoryUtilizationPercentage) }}
{{- fail "autoscaling.enabled needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" }}
{{- end }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.maxReplicaCount) $partitions) }}
{{- fail (printf "keda.maxReplicaCount (%d) must not exceed kafka.inputPartitions (%d): a consumer beyond the partition count gets no partition" (int .Values.keda.maxReplicaCount) $partitions) }}
{{- end }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.minReplicaCount) (int .Values.keda.maxReplicaCount)) }}
{{- fail "keda.minReplicaCount must not exceed keda.maxReplicaCount" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (eq (toString .Values.podDisruptionBudget.maxUnavailable) "<nil>") (eq (toString .Values.podDisruptionBudget.minAvailable) "<nil>") }}
{{- fail "podDisruptionBudget: set maxUnavailable or minAvailable" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (ne (toString .Values.podDisruptionBudget.maxUnavailable) "<nil>") (ne (toString .Values.podDisruptionBudget.minAvailable) "<nil>") }}
{{- fail "podDisruptionBudget: set only one of maxUnavailable and minAvailable" }}
{{- end }}
{{- if and .Values.tracing.enabled (not .Values.tracing.endpoint) }}
{{- fail "tracing.enabled needs tracing.endpoint (the OTLP collector URL)" }}
{{- end }}
{{- include "efv.validateEnv" . }}
{{- end }}

{{/*
Where the chart's own variables come from: extraEnv and extraEnvVars may not set them (a
ConfigMap with a key twice is refused by the API server; a second env entry silently wins).
*/}}
{{- define "efv.reservedEnv" -}}
{{- dict
  "KAFKA_BROKERS" "kafka.brokers" "KAFKA_GROUP_ID" "kafka.groupId" "KAFKA_CLIENT_ID" "kafka.clientId"
  "KAFKA_START_FROM" "kafka.startFrom" "KAFKA_SSL" "kafka.ssl" "KAFKA_SSL_CA_FILE" "kafka.tls.caKey"
  "KAFKA_SSL_CERT_FILE" "kafka.tls.certKey" "KAFKA_SSL_KEY_FILE" "kafka.tls.keyKey"
  "KAFKA_SASL_MECHANISM" "kafka.sasl.mechanism" "INPUT_TOPIC" "kafka.topics.input"
  "VALID_TOPIC" "kafka.topics.valid" "INVALID_TOPIC" "kafka.topics.invalid" "DLQ_TOPIC" "kafka.topics.deadLetter"
  "DELIVERY" "processing.delivery" "ORDERING" "processing.ordering"
  "PARTITION_CONCURRENCY" "processing.partitionConcurrency" "GLOBAL_CONCURRENCY" "processing.globalConcurrency"
  "PARTITION_WINDOW" "processing.partitionWindow" "FETCH_MAX_BYTES_PER_PARTITION" "processing.fetchMaxBytesPerPartition"
  "VALIDATION_TIMEOUT_MS" "processing.validationTimeoutMs" "RISKY_ROUTE" "processing.riskyRoute"
  "RETRY_DELAYS" "processing.retryDelays" "SHUTDOWN_TIMEOUT_MS" "processing.shutdownTimeoutMs"
  "SCHEMA_REGISTRY_URL" "schemaRegistry.url" "LOG_LEVEL" "logLevel" "HTTP_PORT" "httpPort"
  "OTEL_SDK_DISABLED" "tracing.enabled" "OTEL_TRACES_EXPORTER" "tracing.enabled"
  "OTEL_EXPORTER_OTLP_ENDPOINT" "tracing.endpoint" "OTEL_EXPORTER_OTLP_PROTOCOL" "tracing.protocol"
  "OTEL_SERVICE_NAME" "tracing.serviceName" "OTEL_TRACES_SAMPLER" "tracing.sampler"
  "OTEL_TRACES_SAMPLER_ARG" "tracing.samplerArg"
  "POD_NAME" "(the pod's name)" "POD_NAMESPACE" "(the pod's namespace)"
  "OTEL_RESOURCE_ATTRIBUTES" "(the pod's name and namespace)"
  "PROVIDER_API_KEY" "secrets.providerApiKey" "KAFKA_SASL_USERNAME" "secrets.kafkaSaslUsername"
  "KAFKA_SASL_PASSWORD" "secrets.kafkaSaslPassword" "SCHEMA_REGISTRY_USERNAME" "secrets.schemaRegistryUsername"
  "SCHEMA_REGISTRY_PASSWORD" "secrets.schemaRegistryPassword" "OTEL_EXPORTER_OTLP_HEADERS" "secrets.otlpHeaders"
  "SMTP_PROXY" "secrets.smtpProxy" "TRACE_KEY_SECRET" "secrets.traceKeySecret"
  | toJson }}
{{- end }}

{{- define "efv.secretEnv" -}}
{{- list "PROVIDER_API_KEY" "KAFKA_SASL_USERNAME" "KAFKA_SASL_PASSWORD" "SCHEMA_REGISTRY_USERNAME" "SCHEMA_REGISTRY_PASSWORD" "OTEL_EXPORTER_OTLP_HEADERS" "SMTP_PROXY" "TRACE_KEY_SECRET" | toJson }}
{{- end }}

{{/*
Every variable the processor reads, checked as src/config.ts checks it (the field data is
generated from it into _config-fields.tpl), with the same messages, all reported at once.
*/}}
{{- define "efv.validateEnv" -}}
{{- $reserved := include "efv.reservedEnv" . | fromJson }}
{{- $secretEnv := include "efv.secretEnv" . | fromJsonArray }}
{{- $errors := list }}
{{- range $name, $_ := .Values.extraEnv }}
{{- if has $name $secretEnv }}
{{- $errors = append $errors (printf "extraEnv.%s is a secret: set %s (or a key of existingSecret) instead; the ConfigMap is readable by anyone who can read the namespace" $name (get $reserved $name)) }}
{{- else if hasKey $reserved $name }}
{{- $errors = append $errors (printf "extraEnv.%s: the chart sets %s from %s; set that value instead (a ConfigMap key given twice is refused at install)" $name $name (get $reserved $name)) }}
{{- end }}
{{- end }}
{{- range .Values.extraEnvVars }}
{{- if hasKey $reserved .name }}
{{- $errors = append $errors (printf "extraEnvVars: %s is set by the chart from %s; a second entry would silently override it" .name (get $reserved .name)) }}
{{- end }}
{{- end }}
{{- if $errors }}
{{- fail (printf "invalid values:\n  - %s" (join "\n  - " $errors)) }}
{{- end }}
{{- $env := include "efv.allEnv" . | fromJson }}
{{- $fields := include "efv.configFields" . | fromJsonArray }}
{{- $values := dict }}
{{- range $f := $fields }}
{{- $_ := set $values $f.env $f.default }}
{{- if hasKey $env $f.env }}
{{- $raw := get $env $f.env | toString }}
{{- $v := trim $raw }}
{{- $_ := set $values $f.env $v }}
{{- $err := "" }}
{{- if eq $f.kind "str" }}
{{- if and (not $f.allowEmpty) (eq $v "") }}{{ $err = "must not be empty" }}
{{- else if and $f.re (not (regexMatch $f.re $v)) }}{{ $err = $f.message | default (printf "must match %s" $f.reShown) }}{{ end }}
{{- else if eq $f.kind "optionalStr" }}
{{- if and $f.re (ne $v "") (not (regexMatch $f.re $v)) }}{{ $err = printf "must match %s" $f.reShown }}{{ end }}
{{- else if eq $f.kind "int" }}
{{- $n := replace "_" "" $v }}
{{- $_ := set $values $f.env $n }}
{{- if not (regexMatch "^-?[0-9]+$" $n) }}{{ $err = printf "must be a whole number from %d to %d" (int64 $f.min) (int64 $f.max) }}
{{- else if or (lt (atoi $n) (int $f.min)) (gt (atoi $n) (int $f.max)) }}{{ $err = printf "must be from %d to %d" (int64 $f.min) (int64 $f.max) }}{{ end }}
{{- else if eq $f.kind "bool" }}
{{- $b := lower $v }}
{{- if has $b (list "1" "true" "yes" "on") }}{{ $_ := set $values $f.env "true" }}
{{- else if has $b (list "0" "false" "no" "off") }}{{ $_ := set $values $f.env "false" }}
{{- else }}{{ $err = "must be true or false" }}{{ end }}
{{- else if eq $f.kind "oneOf" }}
{{- if not (has (lower $v) $f.values) }}{{ $err = printf "must be one of %s" (join ", " $f.values) }}{{ end }}
{{- else if eq $f.kind "list" }}
{{- range $item := splitList "," $raw }}
{{- $item = trim $item }}
{{- if and (not $err) $item $f.re (not (regexMatch $f.re $item)) }}{{ $err = printf "item \"%s\" must match %s" $item $f.reShown }}{{ end }}
{{- end }}
{{- else if eq $f.kind "providerLimits" }}
{{- range $item := splitList "," $raw }}
{{- $item = trim $item }}
{{- if and (not $err) $item }}
{{- if not (regexMatch $f.re $item) }}{{ $err = printf "\"%s\" is not provider=concurrency[:per-minute]" $item }}
{{- else }}
{{- $c := atoi (regexReplaceAll $f.re $item "${2}") }}
{{- $r := regexReplaceAll $f.re $item "${3}" }}
{{- if or (lt $c 1) (and (ne $r "") (lt (atoi $r) 1)) }}{{ $err = printf "\"%s\": limits must be at least 1" $item }}{{ end }}
{{- end }}
{{- end }}
{{- end }}
{{- else if eq $f.kind "durations" }}
{{- $units := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 }}
{{- $last := -1 }}
{{- $count := 0 }}
{{- range $item := splitList "," $raw }}
{{- $item = trim $item }}
{{- if and (not $err) $item }}
{{- if not (regexMatch "^([0-9]+)(ms|s|m|h)$" $item) }}{{ $err = printf "\"%s\" is not a duration like 500ms, 30s, 10m or 1h" $item }}
{{- else }}
{{- $ms := mul (atoi (regexReplaceAll "^([0-9]+)(ms|s|m|h)$" $item "${1}")) (get $units (regexReplaceAll "^([0-9]+)(ms|s|m|h)$" $item "${2}")) }}
{{- if le $ms 0 }}{{ $err = printf "\"%s\" must be longer than zero" $item }}
{{- else if and (ge $last 0) (le $ms $last) }}{{ $err = "durations must increase" }}
{{- else }}{{ $last = $ms }}{{ $count = add1 $count }}{{ end }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (not $err) (gt $count (int $f.max)) }}{{ $err = printf "at most %d durations" (int64 $f.max) }}{{ end }}
{{- end }}
{{- if $err }}
{{- $errors = append $errors (printf "%s=%s: %s" $f.env (toJson $raw | replace "\\u003c" "<" | replace "\\u003e" ">" | replace "\\u0026" "&") $err) }}
{{- end }}
{{- end }}
{{- end }}
{{- if not $errors }}
{{- /* The relations src/config.ts and src/kafka/security.ts check once every field is valid. */}}
{{- $in := get $values "INPUT_TOPIC" }}
{{- $outputs := list (get $values "VALID_TOPIC") (get $values "INVALID_TOPIC") (get $values "DLQ_TOPIC") }}
{{- if has $in $outputs }}
{{- $errors = append $errors (printf "INPUT_TOPIC \"%s\" must differ from the result topics" $in) }}
{{- end }}
{{- if ne (len (uniq $outputs)) 3 }}
{{- $errors = append $errors "VALID_TOPIC, INVALID_TOPIC and DLQ_TOPIC must be distinct" }}
{{- end }}
{{- $mechanism := get $values "KAFKA_SASL_MECHANISM" | default "" }}
{{- if eq $mechanism "(unset)" }}{{ $mechanism = "" }}{{ end }}
{{- $user := or .Values.existingSecret .Values.secrets.kafkaSaslUsername }}
{{- $password := or .Values.existingSecret .Values.secrets.kafkaSaslPassword }}
{{- if and $mechanism (or (not $user) (not $password)) }}
{{- $errors = append $errors (printf "KAFKA_SASL_MECHANISM=%s needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (set secrets.kafkaSaslUsername and secrets.kafkaSaslPassword, or existingSecret)" $mechanism) }}
{{- end }}
{{- if and (not $mechanism) (or .Values.secrets.kafkaSaslUsername .Values.secrets.kafkaSaslPassword) }}
{{- $errors = append $errors "KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SASL_MECHANISM is not (set kafka.sasl.mechanism)" }}
{{- end }}
{{- if ne (empty (get $values "KAFKA_SSL_CERT_FILE")) (empty (get $values "KAFKA_SSL_KEY_FILE")) }}
{{- $errors = append $errors "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (mutual TLS needs both) (set kafka.tls.certKey and kafka.tls.keyKey)" }}
{{- end }}
{{- if ne (get $values "KAFKA_SSL") "true" }}
{{- $tlsOnly := list }}
{{- range $name := list "KAFKA_SSL_CA_FILE" "KAFKA_SSL_CERT_FILE" "KAFKA_SSL_KEY_FILE" }}
{{- if get $values $name }}{{ $tlsOnly = append $tlsOnly $name }}{{ end }}
{{- end }}
{{- if eq (get $values "KAFKA_SSL_REJECT_UNAUTHORIZED") "false" }}{{ $tlsOnly = append $tlsOnly "KAFKA_SSL_REJECT_UNAUTHORIZED=false" }}{{ end }}
{{- if $tlsOnly }}
{{- $errors = append $errors (printf "%s need KAFKA_SSL=true" (join ", " $tlsOnly)) }}
{{- end }}
{{- end }}
{{- $pc := atoi (get $values "PARTITION_CONCURRENCY") }}
{{- $pw := atoi (get $values "PARTITION_WINDOW") }}
{{- if gt $pc $pw }}
{{- $errors = append $errors (printf "PARTITION_CONCURRENCY (%d) must not exceed PARTITION_WINDOW (%d)" $pc $pw) }}
{{- end }}
{{- if and (eq (get $values "CHECK_PROVIDER") "true") (not (get $values "PROVIDER_URL")) }}
{{- $errors = append $errors "CHECK_PROVIDER=true needs PROVIDER_URL" }}
{{- end }}
{{- end }}
{{- if $errors }}
{{- fail (printf "invalid configuration:\n  - %s" (join "\n  - " $errors)) }}
{{- end }}
{{- end }}
